"""Public catalog pages."""

from django.shortcuts import get_object_or_404, render

from catalog.models import Dataset


def dataset_list(request):
    """List published datasets, newest first."""
    datasets = Dataset.objects.published().order_by("-published_at")[:50]
    return render(request, "catalog/list.html", {"datasets": datasets})


def dataset_detail(request, slug):
    """Show one published dataset."""
    dataset = get_object_or_404(Dataset.objects.published(), slug=slug)
    return render(request, "catalog/dataset.html", {"dataset": dataset})
