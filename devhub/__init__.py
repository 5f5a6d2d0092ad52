"""A development Hub: a local server speaking the part of the Hugging Face Hub HTTP API that the portal uses.

Tests and the offline demo point `HF_ENDPOINT` (or `HfApi(endpoint=...)`) at it instead of huggingface.co.
`devhub.server.DevHub` starts it in a thread; `python -m devhub --port 8800 --data var/devhub`
runs it standalone. Storage lives in `storage.py`, fault injection and the request log in `faults.py`.
Clients must run with `HF_HUB_DISABLE_XET=1`: the server speaks plain LFS, not Xet.
Nothing here may be imported by production code paths: it is a test and demo double of the Hub.
"""
