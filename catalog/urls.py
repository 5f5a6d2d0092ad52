from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("datasets/", views.dataset_list, name="list"),
    path("datasets/<slug:slug>/", views.dataset_detail, name="dataset"),
]
