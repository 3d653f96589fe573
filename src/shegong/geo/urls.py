from django.urls import path

from shegong.geo import views

app_name = "geo"
urlpatterns = [
    path("", views.division_browser, name="browser"),
    path("search/", views.division_search_view, name="search"),
    path("<str:code>/", views.division_detail, name="detail"),
]
