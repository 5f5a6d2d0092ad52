"""Why a sign-in failed, as a reason code: the page says it in words (identity.adapters), the log in the code."""

from allauth.socialaccount.providers.oauth2.client import OAuth2Error


class SignInFailed(OAuth2Error):
    """A sign-in that must not complete; `reason` says why (one of REASONS). Never carries a token."""

    REASONS = (
        "unavailable",  # the provider did not answer, or answered with a server error
        "discovery",  # its discovery document is unusable or names another issuer
        "token_refused",  # the token endpoint refused the code
        "no_id_token",
        "malformed",
        "algorithm",
        "unknown_key",
        "signature",
        "expired",
        "issued_in_future",
        "audience",
        "issuer",
        "nonce",
        "userinfo",
        "not_orcid",
    )

    def __init__(self, reason):
        if reason not in self.REASONS:
            raise ValueError(f"Unknown sign-in failure reason {reason!r}")
        super().__init__(reason)
        self.reason = reason
