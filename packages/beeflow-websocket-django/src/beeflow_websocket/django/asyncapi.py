"""The contract's URLs, for the project's ``urls.py``: the page, the AsyncAPI document, its files.

::

    urlpatterns = [
        path("", include("beeflow_websocket.django.asyncapi")),
        ...
    ]

serves the page at ``BEEFLOW_WEBSOCKET_ASYNCAPI["path"]`` (``/asyncapi`` by default) and the document
at that path plus ``.json`` (see :mod:`beeflow_websocket.core.contract`). Include it under a prefix
(``path("api/", include(...))``) and the page finds the rest all the same, by relative URLs.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from beeflow_websocket.django.configuration import contract

__all__ = ["urlpatterns"]


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    """The page that renders the contract."""
    return _answer(request, contract().path)


@require_GET
def document(request: HttpRequest) -> HttpResponse:
    """The AsyncAPI document, built from the registries now."""
    return _answer(request, f"{contract().path}.json")


@require_GET
def asset(request: HttpRequest, name: str) -> HttpResponse:
    """One of the page's files."""
    return _answer(request, f"{contract().path}/assets/{name}")


def _answer(request: HttpRequest, path: str) -> HttpResponse:
    answer = contract().respond(path, host=request.get_host(), secure=request.is_secure())
    if answer is None:  # the patterns below ask only for the contract's own paths
        return HttpResponse(status=404)
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


def _patterns() -> list[URLPattern]:
    base = contract().path.lstrip("/")
    return [
        path(base, page, name="beeflow_asyncapi_page"),
        path(f"{base}.json", document, name="beeflow_asyncapi"),
        path(f"{base}/assets/<str:name>", asset, name="beeflow_asyncapi_asset"),
    ]


urlpatterns = _patterns()
