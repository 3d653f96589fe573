from django.urls import path

from shegong.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.two_factor, name="two_factor"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create_view, name="user_create"),
    path("users/import/", views.user_import_view, name="user_import"),
    path("users/import/template/", views.user_import_template_view, name="user_import_template"),
    path("users/<int:pk>/", views.user_edit_view, name="user_edit"),
    path("users/<int:pk>/active/", views.user_active_view, name="user_active"),
    path("users/<int:pk>/password-link/", views.user_password_link_view, name="user_password_link"),
    path("set-password/", views.set_password_view, name="set_password"),
    path("set-password/<str:key>/", views.set_password_link_view, name="set_password_link"),
    path("users/<int:pk>/two-factor/reset/", views.two_factor_reset_view, name="two_factor_reset"),
]
