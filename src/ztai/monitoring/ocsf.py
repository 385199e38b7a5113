"""Alerts as OCSF Detection Findings (class 2004, category 2 Findings, schema 1.4), the shape
SIEMs ingest: one finding per alert revision, the evidence events as related events and
evidence data. The principal is whatever the caller passes in the alert (a pseudonym unless
unmasked); content never appears, only audit seqs and event ids."""

from __future__ import annotations

from typing import Any

from ztai.storage.model import AlertRecord, AlertStatus, RiskLevel

OCSF_VERSION = "1.4.0"
CLASS_UID, CATEGORY_UID = 2004, 2
_SEVERITY = {RiskLevel.NONE: (1, "Informational"), RiskLevel.MINOR: (2, "Low"),
             RiskLevel.MODERATE: (3, "Medium"), RiskLevel.ELEVATED: (4, "High")}
_RISK = {RiskLevel.NONE: (0, "Info"), RiskLevel.MINOR: (1, "Low"),
         RiskLevel.MODERATE: (2, "Medium"), RiskLevel.ELEVATED: (3, "High")}
_STATUS = {AlertStatus.OPEN: (1, "New"), AlertStatus.DISMISSED: (3, "Suppressed"),
           AlertStatus.RESOLVED: (4, "Resolved")}
_USER_TYPE = {"user": (1, "User"), "agent": (99, "Agent"), "service": (3, "System")}


def detection_finding(alert: AlertRecord, product_version: str = "0.1.0") -> dict[str, Any]:
    activity_id, activity = _activity(alert)
    severity_id, severity = _SEVERITY[alert.level]
    risk_id, risk = _RISK[alert.level]
    status_id, status = _STATUS[alert.status]
    kind = alert.principal.partition(":")[0]
    type_id, type_name = _USER_TYPE.get(kind, (99, kind or "Other"))
    return {
        "class_uid": CLASS_UID, "class_name": "Detection Finding",
        "category_uid": CATEGORY_UID, "category_name": "Findings",
        "activity_id": activity_id, "activity_name": activity,
        "type_uid": CLASS_UID * 100 + activity_id, "type_name": f"Detection Finding: {activity}",
        "time": _ms(alert.updated_at),
        "severity_id": severity_id, "severity": severity,
        "status_id": status_id, "status": status,
        "risk_level_id": risk_id, "risk_level": risk, "risk_score": round(alert.score),
        "is_alert": alert.status is AlertStatus.OPEN,
        "message": f"ztai risk {alert.level.value} for {alert.principal}",
        "metadata": {"version": OCSF_VERSION, "uid": f"{alert.alert_id}/{alert.revision}",
                     "product": {"name": "ztai", "vendor_name": "ztai",
                                 "version": product_version}},
        "finding_info": {
            "uid": alert.alert_id, "title": f"Risky AI use: {alert.level.value}",
            "desc": _describe(alert), "types": ["Insider Risk", "AI Usage Anomaly"],
            "analytic": {"name": "ztai risk engine", "type_id": 5, "type": "Statistical"},
            "created_time": _ms(alert.raised_at), "modified_time": _ms(alert.updated_at),
            "first_seen_time": _ms(min((e.time for e in alert.evidence), default=alert.raised_at)),
            "last_seen_time": _ms(max((e.time for e in alert.evidence), default=alert.raised_at)),
            "related_events": [{"uid": e.event_id, "product_uid": str(e.seq)}
                               for e in alert.evidence],
        },
        "actor": {"user": {"uid": alert.principal, "type_id": type_id, "type": type_name}},
        "evidences": [{"data": {"seq": e.seq, "event_id": e.event_id, "action": e.action,
                                "resource": e.resource, "decision": e.decision,
                                "points": dict(e.points), "topics": list(e.topics)}}
                      for e in alert.evidence],
        "unmapped": {"indicators": dict(alert.indicators), "revision": alert.revision},
    }


def _activity(alert: AlertRecord) -> tuple[int, str]:
    if alert.status is not AlertStatus.OPEN:
        return 3, "Close"
    return (1, "Create") if alert.revision == 1 else (2, "Update")


def _describe(alert: AlertRecord) -> str:
    parts = [f"{name} {points:g}" for name, points in sorted(
        alert.indicators.items(), key=lambda kv: (-kv[1], kv[0]))]
    return f"score {alert.score:g} from {len(alert.evidence)} events: " + ", ".join(parts)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
