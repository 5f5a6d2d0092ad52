"""A small OpenID Connect provider on 127.0.0.1, for tests and the offline demo: one server, several realms.

Each realm (`/orcid`, `/institution`, ...) is a provider of its own, with its issuer (`http://127.0.0.1:PORT/<realm>`),
RSA key, registered clients and users, and speaks what the portal's client uses of OpenID Connect Core 1.0 and
Discovery 1.0:
- `GET /<realm>/.well-known/openid-configuration`, `GET /<realm>/jwks` (the public key, `kid`, RS256);
- `GET /<realm>/authorize`: the authorization code flow only (`response_type=code`); the client and its
  `redirect_uri` must be registered (exact match, else an error page and no redirect); scopes outside the
  realm's list answer `invalid_scope` (ORCID knows only `openid`); `state` is sent back; `nonce` goes into
  the ID token; PKCE (`S256` or `plain`) is recorded. The user is the realm's `auto_user`, or `user=<sub>`,
  or picked on a tiny page that lists the realm's users (links only, no script); `deny=1` answers
  `access_denied`;
- `POST /<realm>/token`: `authorization_code` with the client's secret (HTTP Basic or in the body), the same
  `redirect_uri`, single-use codes that live a minute, and the PKCE verifier when a challenge was sent; it
  answers an access token and an RS256 ID token (iss, sub, aud, azp, exp, iat, auth_time, nonce and the
  user's claims, such as `groups`);
- `GET|POST /<realm>/userinfo` with the access token as a Bearer token.

Faults for tests, per realm (`OIDCProvider.set_faults(realm, ...)`): `wrong_key` (signed by a key the JWKS
does not hold, under the published `kid`), `expired`, `wrong_audience`, `wrong_nonce`, `wrong_issuer`,
`userinfo_other_sub`, `token_error` (the token endpoint answers 500), `discovery_other_issuer` and `down`
(every endpoint answers 500).
A provider that is not running at all (connection refused) is a closed port.

`python -m devhub.oidc --port 8802 --portal http://127.0.0.1:8000` serves the demo's realms (`demo_realms`):
ORCID-shaped researchers at `/orcid` and an institution with a curator at `/institution`. For tests and the
demo only: it binds 127.0.0.1, trusts whoever picks a user, and keeps everything in memory.
"""

import argparse
import base64
import contextlib
import dataclasses
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

FAULTS = frozenset(
    {
        "wrong_key",
        "expired",
        "wrong_audience",
        "wrong_nonce",
        "wrong_issuer",
        "userinfo_other_sub",
        "token_error",
        "discovery_other_issuer",
        "down",
    }
)
CODE_SECONDS = 60
TOKEN_SECONDS = 600
ID_TOKEN_SECONDS = 300


def b64url(data):
    """Base64url without padding (RFC 7515, section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value):
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def new_key():
    """A fresh 2048-bit RSA private key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key, kid):
    """The public JWK (RFC 7517) of an RSA private key, for RS256 signatures."""
    numbers = key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": kid,
        "n": _uint(numbers.n),
        "e": _uint(numbers.e),
    }


def sign_jwt(claims, key, kid):
    """Return a compact JWS of `claims` signed with RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 3.3)."""
    header = {"alg": "RS256", "typ": "JWT", "kid": kid}
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def orcid_check_character(digits):
    """The ISO 7064 MOD 11-2 check character of an ORCID iD's first fifteen digits."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def orcid_id(number):
    """An ORCID-shaped iD (with a correct check character) from a number below 10**15."""
    digits = f"{number:015d}"
    digits += orcid_check_character(digits)
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


@dataclasses.dataclass
class User:
    """A person the provider can sign in: `sub` and the claims it releases (name, email, groups, ...)."""

    sub: str
    claims: dict
    label: str = ""


@dataclasses.dataclass
class Client:
    """A registered relying party: its id, secret and exact redirect URIs."""

    client_id: str
    secret: str
    redirect_uris: tuple


@dataclasses.dataclass
class Realm:
    """One provider: issuer path, users, clients, scopes it knows; faults and state live here too."""

    name: str
    title: str
    users: list
    clients: list
    scopes: tuple = ("openid", "profile", "email", "groups")
    auto_user: str | None = None
    faults: set = dataclasses.field(default_factory=set)
    key: object = dataclasses.field(default_factory=new_key)
    other_key: object = dataclasses.field(default_factory=new_key)
    kid: str = dataclasses.field(default_factory=lambda: secrets.token_hex(8))
    codes: dict = dataclasses.field(default_factory=dict)
    tokens: dict = dataclasses.field(default_factory=dict)

    def user(self, sub):
        """The user with this `sub`, or None."""
        return next((user for user in self.users if user.sub == sub), None)

    def client(self, client_id):
        """The client with this id, or None."""
        return next((client for client in self.clients if client.client_id == client_id), None)


class _Handler(BaseHTTPRequestHandler):
    server_version = "devhub-oidc/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        # Quiet: request lines would carry codes and tokens in their query strings.
        pass

    # -- plumbing ---------------------------------------------------------------------------------------

    def _send(self, status, body, content_type, headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _json(self, status, data, headers=None):
        self._send(status, json.dumps(data), "application/json", headers)

    def _page(self, status, title, body_html):
        page = (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1>{body_html}"
            "<p><small>Local test provider of Dataset Portal's development tools: not a real sign-in.</small></p>"
            "</body></html>"
        )
        self._send(status, page, "text/html; charset=utf-8")

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def _form(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        return {key: values[0] for key, values in parse_qs(body).items()}

    def _route(self):
        parts = urlsplit(self.path)
        segments = parts.path.strip("/").split("/", 1)
        realm = self.server.realms.get(segments[0])
        endpoint = segments[1] if len(segments) > 1 else ""
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        return realm, endpoint, query

    def do_GET(self):
        self._dispatch(method="GET")

    def do_HEAD(self):
        self._dispatch(method="GET")

    def do_POST(self):
        self._dispatch(method="POST")

    def _dispatch(self, *, method):
        realm, endpoint, query = self._route()
        if realm is None:
            return self._json(404, {"error": "not_found"})
        with self.server.lock:
            down = "down" in realm.faults
        if down:
            return self._json(500, {"error": "server_error", "error_description": "The provider is down."})
        routes = {
            ("GET", ".well-known/openid-configuration"): lambda: self._discovery(realm),
            ("GET", "jwks"): lambda: self._json(200, {"keys": [public_jwk(realm.key, realm.kid)]}),
            ("GET", "authorize"): lambda: self._authorize(realm, query),
            ("POST", "token"): lambda: self._token(realm, self._form()),
            ("GET", "userinfo"): lambda: self._userinfo(realm),
            ("POST", "userinfo"): lambda: self._userinfo(realm),
        }
        handler = routes.get((method, endpoint))
        if handler is None:
            return self._json(404, {"error": "not_found"})
        return handler()

    # -- endpoints --------------------------------------------------------------------------------------

    def _discovery(self, realm):
        issuer = self.server.issuer(realm)
        with self.server.lock:
            other = "discovery_other_issuer" in realm.faults
        self._json(
            200,
            {
                "issuer": "https://issuer.elsewhere.example" if other else issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "userinfo_endpoint": f"{issuer}/userinfo",
                "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": list(realm.scopes),
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256", "plain"],
                "grant_types_supported": ["authorization_code"],
                "claims_supported": [
                    "sub",
                    "name",
                    "given_name",
                    "family_name",
                    "email",
                    "email_verified",
                    "groups",
                ],
            },
        )

    def _authorize(self, realm, query):
        client = realm.client(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if client is None or redirect_uri not in client.redirect_uris:
            # Never redirect to an address that is not registered (RFC 6749, section 4.1.2.1).
            return self._page(
                400,
                "Sign-in refused",
                "<p>Unknown client or unregistered redirect URI "
                f"<code>{html.escape(redirect_uri)}</code>.</p>",
            )
        state = query.get("state")

        def back(**params):
            if state is not None:
                params["state"] = state
            separator = "&" if "?" in redirect_uri else "?"
            return self._redirect(f"{redirect_uri}{separator}{urlencode(params)}")

        if query.get("response_type") != "code":
            return back(error="unsupported_response_type")
        scopes = query.get("scope", "").split()
        if "openid" not in scopes or any(scope not in realm.scopes for scope in scopes):
            return back(
                error="invalid_scope", error_description="Scopes known here: " + " ".join(realm.scopes)
            )
        method = query.get("code_challenge_method", "plain")
        if query.get("code_challenge") and method not in ("S256", "plain"):
            return back(error="invalid_request", error_description="Unsupported code_challenge_method.")
        if query.get("deny"):
            return back(error="access_denied")
        user = realm.user(query.get("user") or realm.auto_user or "")
        if user is None:
            return self._pick_user(realm, query)
        code = secrets.token_urlsafe(24)
        with self.server.lock:
            realm.codes[code] = {
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
                "sub": user.sub,
                "nonce": query.get("nonce"),
                "scope": " ".join(scopes),
                "challenge": query.get("code_challenge"),
                "method": method,
                "expires": time.time() + CODE_SECONDS,
                "auth_time": int(time.time()),
            }
        return back(code=code)

    def _pick_user(self, realm, query):
        base = f"{self.server.issuer(realm)}/authorize?"
        items = "".join(
            f"<li><a href='{html.escape(base + urlencode({**query, 'user': user.sub}))}'>"
            f"{html.escape(user.label or user.claims.get('name') or user.sub)}</a> "
            f"<small>({html.escape(user.sub)})</small></li>"
            for user in realm.users
        )
        cancel = html.escape(base + urlencode({**query, "deny": "1"}))
        self._page(
            200,
            f"Sign in to {realm.title}",
            f"<p>Choose who signs in:</p><ul>{items}</ul><p><a href='{cancel}'>Cancel</a></p>",
        )

    def _client_credentials(self, form):
        authorization = self.headers.get("Authorization", "")
        if authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization[6:]).decode()
            except (ValueError, UnicodeDecodeError):
                return None, None
            client_id, _, secret = decoded.partition(":")
            return unquote(client_id), unquote(secret)
        return form.get("client_id"), form.get("client_secret")

    def _token(self, realm, form):
        with self.server.lock:
            faults = set(realm.faults)
        if "token_error" in faults:
            return self._json(500, {"error": "server_error"})
        client_id, secret = self._client_credentials(form)
        client = realm.client(client_id or "")
        if client is None or not hmac.compare_digest((secret or "").encode(), client.secret.encode()):
            return self._json(401, {"error": "invalid_client"}, {"WWW-Authenticate": "Basic"})
        if form.get("grant_type") != "authorization_code":
            return self._json(400, {"error": "unsupported_grant_type"})
        with self.server.lock:
            grant = realm.codes.pop(form.get("code", ""), None)  # single use, even when refused below
        if (
            grant is None
            or grant["expires"] < time.time()
            or grant["client_id"] != client.client_id
            or grant["redirect_uri"] != form.get("redirect_uri")
        ):
            return self._json(400, {"error": "invalid_grant"})
        if grant["challenge"]:
            verifier = form.get("code_verifier", "")
            computed = (
                b64url(hashlib.sha256(verifier.encode()).digest()) if grant["method"] == "S256" else verifier
            )
            if not verifier or not hmac.compare_digest(computed.encode(), grant["challenge"].encode()):
                return self._json(
                    400, {"error": "invalid_grant", "error_description": "PKCE verification failed."}
                )
        user = realm.user(grant["sub"])
        if user is None:
            return self._json(400, {"error": "invalid_grant"})
        access_token = secrets.token_urlsafe(24)
        with self.server.lock:
            realm.tokens[access_token] = {"sub": user.sub, "expires": time.time() + TOKEN_SECONDS}
        self._json(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "scope": grant["scope"],
                "id_token": self._id_token(realm, user, client, grant, faults),
            },
        )

    def _id_token(self, realm, user, client, grant, faults):
        now = int(time.time())
        claims = {
            **user.claims,
            "iss": self.server.issuer(realm) + ("/elsewhere" if "wrong_issuer" in faults else ""),
            "sub": user.sub,
            "aud": "another-client" if "wrong_audience" in faults else client.client_id,
            "azp": client.client_id,
            "iat": now - 1200 if "expired" in faults else now,
            "exp": now - 600 if "expired" in faults else now + ID_TOKEN_SECONDS,
            "auth_time": grant["auth_time"],
        }
        if grant["nonce"] is not None:
            claims["nonce"] = secrets.token_urlsafe(16) if "wrong_nonce" in faults else grant["nonce"]
        key = realm.other_key if "wrong_key" in faults else realm.key
        return sign_jwt(claims, key, realm.kid)

    def _userinfo(self, realm):
        authorization = self.headers.get("Authorization", "")
        token = authorization[7:] if authorization.startswith("Bearer ") else ""
        with self.server.lock:
            grant = realm.tokens.get(token)
            faults = set(realm.faults)
        if grant is None or grant["expires"] < time.time():
            return self._json(
                401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        user = realm.user(grant["sub"])
        sub = orcid_id(999) if "userinfo_other_sub" in faults else user.sub
        self._json(200, {**user.claims, "sub": sub})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, realms):
        super().__init__(address, _Handler)
        self.realms = {realm.name: realm for realm in realms}
        self.lock = threading.Lock()

    def issuer(self, realm):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/{realm.name}"


class OIDCProvider:
    """The provider bound to 127.0.0.1 (a free port by default), served from a background thread."""

    def __init__(self, realms, *, host="127.0.0.1", port=0):
        self._httpd = _Server((host, port), realms)
        self._thread = None

    @property
    def url(self):
        """The server's base URL (each realm's issuer is this URL + /<realm>)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def issuer(self, name):
        """The issuer URL of a realm."""
        return f"{self.url}/{name}"

    def realm(self, name):
        """The realm named `name` (its users may be changed between sign-ins)."""
        return self._httpd.realms[name]

    def set_faults(self, name, *faults):
        """Make a realm misbehave from now on (see FAULTS); no argument clears its faults."""
        unknown = set(faults) - FAULTS
        if unknown:
            raise ValueError(f"Unknown faults: {sorted(unknown)}")
        with self._httpd.lock:
            self.realm(name).faults = set(faults)

    def start(self):
        """Serve in a daemon thread and return self."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="devhub-oidc", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        """Serve in the calling thread until interrupted (`python -m devhub.oidc`)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def stop(self):
        """Stop serving and free the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


# The offline demo's realms (`make run`): who can sign in, and the clients the portal is configured with.
DEMO_ORCID_CLIENT = ("APP-DEMO0000PORTAL", "orcid-demo-secret")
DEMO_INSTITUTION_CLIENT = ("dataset-portal", "institution-demo-secret")
DEMO_RESEARCHERS = (
    ("Ada", "Okafor", 1_0002_1825_009),
    ("Jonas", "Lindqvist", 3_1415_9265_358),
)
DEMO_CURATOR_EMAIL = "curator@institution.example"
DEMO_LIBRARIAN_EMAIL = "librarian@institution.example"


def redirect_uris(portal_urls, app):
    """The portal's exact redirect URIs for an app, for each address it may be browsed at."""
    return tuple(f"{url.rstrip('/')}/accounts/oidc/{app}/login/callback/" for url in portal_urls)


def demo_realms(portal_urls, *, orcid_client=DEMO_ORCID_CLIENT, institution_client=DEMO_INSTITUTION_CLIENT):
    """The demo's two realms: ORCID-shaped researchers at /orcid, the institution (a curator, a librarian)."""
    researchers = [
        User(
            sub=orcid_id(number),
            claims={"name": f"{given} {family}", "given_name": given, "family_name": family},
            label=f"{given} {family} (researcher)",
        )
        for given, family, number in DEMO_RESEARCHERS
    ]
    staff = [
        User(
            sub="curator-0001",
            claims={
                "name": "Casey Curator",
                "given_name": "Casey",
                "family_name": "Curator",
                "preferred_username": "casey",
                "email": DEMO_CURATOR_EMAIL,
                "email_verified": True,
                "groups": ["curators", "library"],
            },
            label="Casey Curator (in the curators group)",
        ),
        User(
            sub="librarian-0002",
            claims={
                "name": "Lee Librarian",
                "given_name": "Lee",
                "family_name": "Librarian",
                "preferred_username": "lee",
                "email": DEMO_LIBRARIAN_EMAIL,
                "email_verified": True,
                "groups": ["library"],
            },
            label="Lee Librarian (not a curator)",
        ),
    ]
    return [
        Realm(
            name="orcid",
            title="ORCID (local demo)",
            users=researchers,
            clients=[Client(*orcid_client, redirect_uris=redirect_uris(portal_urls, "orcid"))],
            scopes=("openid",),
        ),
        Realm(
            name="institution",
            title="Example Institution (local demo)",
            users=staff,
            clients=[Client(*institution_client, redirect_uris=redirect_uris(portal_urls, "institution"))],
        ),
    ]


def main(argv=None):
    """Serve the demo's realms until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m devhub.oidc", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8802)
    parser.add_argument(
        "--portal",
        action="append",
        default=[],
        help="an address the portal is browsed at (repeatable), e.g. http://127.0.0.1:8000",
    )
    parser.add_argument(
        "--orcid-client", default=":".join(DEMO_ORCID_CLIENT), help="client_id:secret at /orcid"
    )
    parser.add_argument(
        "--institution-client",
        default=":".join(DEMO_INSTITUTION_CLIENT),
        help="client_id:secret at /institution",
    )
    args = parser.parse_args(argv)
    realms = demo_realms(
        args.portal or ["http://127.0.0.1:8000"],
        orcid_client=tuple(args.orcid_client.split(":", 1)),
        institution_client=tuple(args.institution_client.split(":", 1)),
    )
    provider = OIDCProvider(realms, host=args.host, port=args.port)
    print(f"OpenID Connect provider at {provider.url}/orcid and {provider.url}/institution", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        provider.serve_forever()


if __name__ == "__main__":
    main()
