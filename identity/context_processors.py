"""Template context for the sign-in links of every page; reads only settings until a template asks for more."""

from identity import providers


def sign_in(request):
    """Expose the configured sign-in buttons (ORCID, institution) to templates."""
    return {
        "orcid_sign_in": providers.orcid_button(),
        "institution_sign_in": providers.institution_button(),
    }
