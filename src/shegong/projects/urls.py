"""Project pages."""

from django.urls import path

from shegong.projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list_view, name="list"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
]
