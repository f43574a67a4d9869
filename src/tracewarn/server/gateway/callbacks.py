"""Callback subscriptions and delivery (EU Federation Gateway Service [docs/specifications.md#efgs]).

A member subscribes a URL; after each new download batch the gateway calls
`GET <url>?batchTag=<tag>&date=<yyyy-MM-dd>`, one batch at a time in creation order. A callback is
only a hint that a batch exists: members fetch and verify it like any download, and keep polling
as the primary path (EU Federation Gateway Service [docs/specifications.md#efgs], decision 15). URL rules as EFGS: https, no query, no host that is or
resolves into a private, loopback or link-local range (checked when subscribing and again before
each delivery). After the first try and `callback_retries` retries fail, the subscription ends.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse

import httpx
import sqlalchemy as sa

from tracewarn.server.gateway.context import GatewayContext
from tracewarn.server.gateway.models import CallbackTask, Subscription
from tracewarn.server.problems import Problem

__all__ = [
    "check_url",
    "delete_subscription",
    "deliver_callbacks",
    "list_subscriptions",
    "subscribe",
]


def _loopback_http(url: urllib.parse.SplitResult) -> bool:
    return url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost", "::1")


def check_url(ctx: GatewayContext, url: str) -> None:
    """Raise a 400 Problem unless `url` may receive callbacks."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        raise Problem(400, "bad-request", "callback URL does not parse") from None
    if parts.query or parts.fragment or not parts.hostname:
        raise Problem(400, "bad-request", "callback URL needs a host and no query")
    if ctx.settings.callback_allow_loopback and _loopback_http(parts):
        return
    if parts.scheme != "https":
        raise Problem(400, "bad-request", "callback URL must use https")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise Problem(400, "bad-request", "callback host does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_private or address.is_loopback or address.is_link_local:
            raise Problem(400, "bad-request", "callback host resolves into a private range")
        if address in ipaddress.ip_network("100.64.0.0/10"):
            raise Problem(400, "bad-request", "callback host resolves into a private range")


def list_subscriptions(ctx: GatewayContext, country: str) -> list[dict[str, str]]:
    with ctx.sessions() as session:
        rows = session.scalars(
            sa.select(Subscription).where(Subscription.country == country).order_by(Subscription.id)
        ).all()
        return [{"callbackId": r.callback_id, "url": r.url} for r in rows]


def subscribe(ctx: GatewayContext, country: str, callback_id: str, url: str) -> None:
    if not 1 <= len(callback_id) <= 64:
        raise Problem(400, "bad-request", "callback id must be 1..64 characters")
    check_url(ctx, url)
    with ctx.sessions.begin() as session:
        row = session.scalars(
            sa.select(Subscription).where(
                Subscription.country == country, Subscription.callback_id == callback_id
            )
        ).first()
        if row is None:
            session.add(
                Subscription(
                    callback_id=callback_id, country=country, url=url, created_at=ctx.now()
                )
            )
        else:
            row.url = url


def delete_subscription(ctx: GatewayContext, country: str, callback_id: str) -> None:
    with ctx.sessions.begin() as session:
        row = session.scalars(
            sa.select(Subscription).where(
                Subscription.country == country, Subscription.callback_id == callback_id
            )
        ).first()
        if row is None:
            raise Problem(404, "not-found", f"no callback {callback_id}")
        session.execute(sa.delete(CallbackTask).where(CallbackTask.subscription_id == row.id))
        session.delete(row)


def deliver_callbacks(ctx: GatewayContext, client: httpx.Client) -> int:
    """Deliver due tasks, oldest first per subscription; returns how many succeeded."""
    delivered = 0
    now = ctx.now()
    with ctx.sessions() as session:
        subs = [(s.id, s.url) for s in session.scalars(sa.select(Subscription))]
    for sub_id, url in subs:
        while True:
            with ctx.sessions() as session:
                task = session.scalars(
                    sa.select(CallbackTask)
                    .where(CallbackTask.subscription_id == sub_id)
                    .order_by(CallbackTask.id)
                    .limit(1)
                ).first()
                if task is None or task.not_before > now:
                    break
                task_id, tag, day, retries = task.id, task.batch_tag, task.day, task.retries
            ok = _call(ctx, client, url, tag, day)
            with ctx.sessions.begin() as session:
                if ok:
                    session.execute(sa.delete(CallbackTask).where(CallbackTask.id == task_id))
                    delivered += 1
                    continue
                if retries >= ctx.settings.callback_retries:
                    session.execute(
                        sa.delete(CallbackTask).where(CallbackTask.subscription_id == sub_id)
                    )
                    session.execute(sa.delete(Subscription).where(Subscription.id == sub_id))
                else:
                    session.execute(
                        sa.update(CallbackTask)
                        .where(CallbackTask.id == task_id)
                        .values(
                            retries=retries + 1,
                            not_before=now + ctx.settings.callback_retry_seconds,
                        )
                    )
            break
    return delivered


def _call(ctx: GatewayContext, client: httpx.Client, url: str, tag: str, day: str) -> bool:
    try:
        check_url(ctx, url)
        response = client.get(
            url,
            params={"batchTag": tag, "date": day},
            headers={"User-Agent": "EFGS Callback Engine"},
            timeout=ctx.settings.callback_timeout_seconds,
        )
    except (Problem, httpx.HTTPError):
        return False
    return 200 <= response.status_code < 300
