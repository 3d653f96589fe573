from django.urls import path

from shegong.workforce import views

app_name = "workforce"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("panels/<slug:name>/", views.dashboard_panel, name="dashboard_panel"),
    path("workers/", views.registry, name="workers"),
    path("workers/<int:pk>/", views.worker_detail, name="worker"),
    path("import/", views.worker_import, name="import"),
    path("import/template/", views.worker_import_template, name="import_template"),
    path("training/", views.training, name="training"),
    path("training/courses/<int:pk>/", views.course_detail, name="course"),
    # honours, universities, dispatches
    path("honours/", views.honours, name="honours"),
    path("universities/", views.universities, name="universities"),
    path("dispatches/", views.dispatches, name="dispatches"),
    path("dispatches/<int:pk>/end/", views.dispatch_end, name="dispatch_end"),
    path(
        "dispatches/designations/<int:pk>/lift/",
        views.designation_lift,
        name="designation_lift",
    ),
]
