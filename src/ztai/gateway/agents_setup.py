"""Agents' controls from the settings: the approval webhook (its secret read from the
environment once, at start) and the budget stage."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ztai.agents.budgets import BudgetLedger
from ztai.agents.webhook import WebhookNotifier, WebhookOptions
from ztai.config.settings import ConfigError, Settings
from ztai.core.clock import Clock
from ztai.core.secret import Secret
from ztai.gateway.budgets import BudgetStage, budgets_from, prices_from


def webhook_from(settings: Settings, clock: Clock,
                 environ: Mapping[str, str] | None = None) -> WebhookNotifier | None:
    """The configured approval webhook, or None. Raises ``ConfigError`` (fail closed at start)
    when its secret's environment variable is unset or empty."""
    hook = settings.agents.approval_webhook
    if hook is None:
        return None
    secret = (os.environ if environ is None else environ).get(hook.secret_env, "")
    if not secret:
        raise ConfigError(f"agents.approval_webhook: the environment variable "
                          f"{hook.secret_env} holding the webhook secret is not set")
    return WebhookNotifier(WebhookOptions(hook.url, Secret(secret), hook.links_base_url,
                                          hook.timeout_s, hook.retries), clock)


def budget_stage(settings: Settings, clock: Clock) -> BudgetStage | None:
    """The budget stage, or None when no agent has any limit (nothing to count)."""
    budgets = settings.agents.budgets
    if all(value is None for b in (budgets.default, *budgets.agents.values())
           for value in b.model_dump().values()):
        return None
    ledger = BudgetLedger(clock, budgets_from(budgets))
    return BudgetStage(ledger, prices_from(settings.models))
