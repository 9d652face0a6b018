"""A login endpoint, so that tests can get a session cookie for a real user."""

import json

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def login_view(request: HttpRequest) -> HttpResponse:
    user = authenticate(request, username=request.POST.get("username"), password=request.POST.get("password"))
    if user is None:
        return HttpResponse(status=401)
    login(request, user)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def push_view(request: HttpRequest) -> HttpResponse:
    """Server push from a synchronous Django view."""
    from beeflow_websocket.django.push import emit_event

    from siteplugins.actions import Said

    body = json.loads(request.body)
    emit_event(
        Said(recipient=body["recipient"], recipient_id=body["recipient_id"], payload={"text": body["text"]})
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def kick_view(request: HttpRequest) -> HttpResponse:
    """Close every connection of a user, in every process."""
    from beeflow_websocket.django.push import disconnect_user

    body = json.loads(request.body)
    disconnect_user(body["user_id"], reason=body["reason"])
    return HttpResponse(status=204)


urlpatterns = [
    path("login/", login_view),
    path("push/", push_view),
    path("kick/", kick_view),
    path("", include("beeflow_websocket.django.asyncapi")),
]
