"""The portal's OpenID Connect client: django-allauth's, with the checks it leaves out (see provider.py)."""
