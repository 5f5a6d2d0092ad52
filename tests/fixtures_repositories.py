"""Pytest fixtures for the repository doubles (devhub/repositories.py), loaded by tests/conftest.py.

`repositories` starts a RepositoryDouble on 127.0.0.1 with a throwaway trustme CA and points the portal at
it: the fetch allow-list and CA bundle, DOI_RESOLVER_URL and FIGSHARE_API_URL. figshare items have their
pages on figshare portals, recognised by host name, so during the test the names in FIGSHARE_NAMES resolve
to 127.0.0.1 (through safefetch's resolver, the one seam it offers tests); every request still goes through
the real safefetch, and the double is the network.
"""

import pytest
import trustme

from devhub.repositories import RepositoryDouble
from portal import safefetch

# figshare.com itself and an institution's portal (*.figshare.com).
FIGSHARE_NAMES = ("figshare.com", "data.uni.figshare.com")


@pytest.fixture
def repositories(settings, tmp_path, monkeypatch):
    """Yield a running RepositoryDouble that the portal's resolvers and fetch client are set up to use."""
    ca = trustme.CA()
    ca_path, pem_path = tmp_path / "repositories-ca.pem", tmp_path / "repositories.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    ca.issue_cert("127.0.0.1", *FIGSHARE_NAMES).private_key_and_cert_chain_pem.write_to_path(str(pem_path))
    real_resolve = safefetch.resolve

    def resolve(host, port):
        return ["127.0.0.1"] if host in FIGSHARE_NAMES else real_resolve(host, port)

    monkeypatch.setattr(safefetch, "resolve", resolve)
    with RepositoryDouble(cert_file=pem_path, key_file=pem_path, figshare_host=FIGSHARE_NAMES[0]) as double:
        settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
        settings.PORTAL_FETCH_CA_BUNDLE = str(ca_path)
        settings.DOI_RESOLVER_URL = double.doi_resolver_url
        settings.FIGSHARE_API_URL = double.figshare_api_url
        double.ca_path = ca_path
        yield double
