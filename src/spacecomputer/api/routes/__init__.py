"""The API's routers, one module per resource, each exporting ``router`` (an ``APIRouter``) for ``create_app``.

``users`` (accounts, preferences), ``auth`` (login, tokens, two-factor), ``api_keys``, ``admin`` are mounted under
``/api/v1``; ``health`` (``/health``, ``/ready``, ``/metrics``) at the root.
"""
