"""Checking an OpenID Connect ID token as the core specification asks (section 3.1.3.7), whatever channel it came by.

django-allauth skips the signature of an ID token fetched from the token endpoint (the specification allows it
over TLS) and sends no nonce. The portal checks both, so that a token signed by another key, issued for
another client or another sign-in, or expired, never signs anybody in: signature against the provider's
published keys (asymmetric algorithms only), issuer, audience (and `azp` with several audiences), expiry and
issue time with a minute of clock skew, and the nonce bound to this browser's sign-in.
"""

import hmac

import jwt
import requests
from django.utils.crypto import salted_hmac

from identity.oidc.errors import SignInFailed

# Asymmetric algorithms only: an HMAC "signature" keyed with the public key, or `none`, never passes.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
CLOCK_SKEW_SECONDS = 60
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat"]


def nonce_for(state_id):
    """Return the nonce sent with the sign-in whose state id is `state_id` (a keyed hash: nothing to store)."""
    return salted_hmac("identity.oidc.nonce", state_id or "", algorithm="sha256").hexdigest()


def fetch_json(session, url):
    """GET a provider's JSON document; any network error or server error is "unavailable"."""
    try:
        response = session.get(url)
    except requests.RequestException:
        raise SignInFailed("unavailable") from None
    if response.status_code >= 500:
        raise SignInFailed("unavailable")
    try:
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError):
        raise SignInFailed("discovery") from None
    if not isinstance(data, dict):
        raise SignInFailed("discovery")
    return data


def signing_key(jwks, header):
    """Return the key of the provider's JWKS that the token's header names (by `kid`, or the only one)."""
    keys = [key for key in jwks.get("keys", []) if isinstance(key, dict) and key.get("use", "sig") == "sig"]
    kid = header.get("kid")
    candidates = [key for key in keys if key.get("kid") == kid] if kid else keys
    if len(candidates) != 1:
        raise SignInFailed("unknown_key")
    try:
        return jwt.PyJWK(candidates[0], algorithm=header["alg"]).key
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        raise SignInFailed("unknown_key") from None


def verify_id_token(token, *, session, config, client_id, nonce):
    """Return the claims of a valid ID token, or raise SignInFailed with the reason it is not valid."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise SignInFailed("malformed") from None
    if header.get("alg") not in ALGORITHMS:
        raise SignInFailed("algorithm")
    if "jwks_uri" not in config or "issuer" not in config:
        raise SignInFailed("discovery")
    key = signing_key(fetch_json(session, config["jwks_uri"]), header)
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[header["alg"]],
            audience=client_id,
            issuer=config["issuer"],
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.InvalidSignatureError:
        raise SignInFailed("signature") from None
    except jwt.ExpiredSignatureError:
        raise SignInFailed("expired") from None
    except jwt.ImmatureSignatureError:
        raise SignInFailed("issued_in_future") from None
    except jwt.InvalidAudienceError:
        raise SignInFailed("audience") from None
    except jwt.InvalidIssuerError:
        raise SignInFailed("issuer") from None
    except jwt.PyJWTError:
        raise SignInFailed("malformed") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise SignInFailed("audience")
    if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise SignInFailed("nonce")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SignInFailed("malformed")
    return claims
