from django.urls import path

from shegong.network import views

app_name = "network"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("facilities/", views.facility_list_view, name="facilities"),
    path("facilities/<int:pk>/", views.facility_detail, name="facility"),
]
