"""The API documentation pages' Content-Security-Policy.

Swagger UI runs under the project-wide policy. Redoc builds its styles at run time
(styled-components inserts <style> elements), which a policy without inline styles
blocks; its page alone allows inline styles. Scripts stay our own files.
"""

from django.conf import settings
from django.views.decorators.csp import csp_override


def redoc_csp(view):
    return csp_override(
        {
            **settings.SECURE_CSP,
            "style-src": ["'self'", "'unsafe-inline'"],
            "worker-src": ["'self'", "blob:"],
        }
    )(view)
