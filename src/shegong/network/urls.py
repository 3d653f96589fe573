from django.urls import path

from shegong.network import views

app_name = "network"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.xlsx", views.dashboard_export, name="dashboard_xlsx"),
    path("facilities/", views.facility_list_view, name="facilities"),
    path("facilities/new/", views.facility_create_view, name="facility_create"),
    path("facilities/<int:pk>/", views.facility_detail, name="facility"),
    path("facilities/<int:pk>/edit/", views.facility_edit_view, name="facility_edit"),
    path("facilities/<int:pk>/status/", views.facility_status_view, name="facility_status"),
    path("facilities/<int:pk>/postings/new/", views.posting_create_view, name="posting_create"),
    path("facilities/<int:pk>/visits/new/", views.visit_create_view, name="visit_create"),
    path("fixes/<int:pk>/resolve/", views.fix_resolve_view, name="fix_resolve"),
    path("standards/", views.standards_view, name="standards"),
    path("import/", views.import_view, name="import"),
    path("import/template/<str:kind>/", views.import_template_view, name="import_template"),
    path("organisations/", views.organisations_view, name="organisations"),
]
