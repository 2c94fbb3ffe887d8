"""Alarms reach a person: every CloudWatch alarm in template.yaml notifies `AlarmTopic` when it
fires and when it clears, and the topic mails `AlarmEmail` when one is given (no subscription
by default)."""

from __future__ import annotations

from typing import Any

from local.aws.template import load_template

TOPIC = {"Ref": "AlarmTopic"}


def test_every_alarm_notifies_the_alarm_topic_when_it_fires_and_clears() -> None:
    alarms = load_template().of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) >= 21
    silent = {
        f"{name}.{actions}"
        for name, spec in alarms.items()
        for actions in ("AlarmActions", "OKActions")
        if TOPIC not in spec["Properties"].get(actions, [])
    }
    assert not silent, f"alarms that notify nobody: {sorted(silent)}"


def test_the_topic_mails_the_alarm_email_only_when_one_is_given() -> None:
    template = load_template()
    document: dict[str, Any] = template.document
    assert template.resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    assert document["Parameters"]["AlarmEmail"]["Default"] == ""
    assert document["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    (subscription,) = template.of_type("AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": TOPIC, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"},
    }  # fmt: skip
