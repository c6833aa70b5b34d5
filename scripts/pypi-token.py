"""Prints a short-lived PyPI upload token for this job: trusted publishing.

The release pipeline's `release-pypi` job has GitLab issue an OIDC ID token for the audience
`pypi` (`id_tokens: PYPI_ID_TOKEN`); PyPI exchanges it for a token that can upload this project
for a few minutes, if the project on PyPI trusts this GitLab project, `.gitlab-ci.yml` and the
`release` environment. No PyPI secret is stored anywhere. The token goes to stdout only.
"""

import json
import os
import sys
import urllib.request

MINT_URL = "https://pypi.org/_/oidc/mint-token"


def main() -> int:
    id_token = os.environ.get("PYPI_ID_TOKEN", "")
    if not id_token:
        print("pypi-token: PYPI_ID_TOKEN is not set (id_tokens with aud: pypi)", file=sys.stderr)
        return 2
    request = urllib.request.Request(
        MINT_URL,
        data=json.dumps({"token": id_token}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as err:
        # PyPI says why it refused (the claims it expected), never the token.
        print(f"pypi-token: PyPI refused the ID token: HTTP {err.code}", file=sys.stderr)
        return 1
    print(answer["token"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
