from django.urls import path

from shegong.funding import views

app_name = "funding"
urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("one-percent/", views.one_percent_view, name="one_percent"),
    path("accounts/", views.account_list, name="accounts"),
    path("accounts/<int:pk>/", views.account_detail, name="account"),
]
