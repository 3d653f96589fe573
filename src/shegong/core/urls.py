from django.urls import path

from shegong.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_list, name="audit"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/result/", views.job_result_download, name="job_result"),
]
