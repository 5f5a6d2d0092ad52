"""Atom feed of newly published datasets."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from catalog.models import Dataset

FEED_SIZE = 30


class NewDatasetsFeed(Feed):
    """The most recently published datasets, newest first."""

    feed_type = Atom1Feed

    def title(self):
        """Return the feed's title."""
        return f"{settings.PORTAL_NAME}: new datasets"

    def link(self):
        """Return the catalog page the feed mirrors."""
        return reverse("catalog:list")

    def subtitle(self):
        """Return the feed's subtitle."""
        return f"Datasets newly published on the Hugging Face Hub through {settings.PORTAL_NAME}."

    def items(self):
        """Return the newest published datasets."""
        return (
            Dataset.objects.published()
            .only("slug", "name", "summary", "domain", "published_at", "updated_at")
            .order_by("-published_at", "-id")[:FEED_SIZE]
        )

    def item_title(self, item):
        """Return a dataset's name (the feed generator escapes it)."""
        return item.name

    def item_description(self, item):
        """Return a dataset's summary, escaped: Atom marks the summary as HTML."""
        return escape(item.summary or f"A {item.domain} dataset.")

    def item_pubdate(self, item):
        """Return when the dataset was published."""
        return item.published_at

    def item_updateddate(self, item):
        """Return when the dataset row last changed."""
        return item.updated_at
