"""The audit receiver's own parts: MessagePack and the Forward protocol, chunks written once, weekly rotation."""

import datetime
import importlib.util
import json
import os
import struct

import pytest

PATH = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "audit", "files", "sovereign-registry-audit.py")
SPEC = importlib.util.spec_from_file_location("audit_receiver", PATH)
receiver = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(receiver)

LOGIN = "I1206 04:40:00.000000       1 server.go:465] New token for {alice:***@10.0.0.5 []} Basic: {\"access\":[]}"
FAILED = "I1206 04:40:00.000000       1 server.go:465] Auth failed: {bob:***@10.0.0.6 [{repository  web/app [pull]}]}"


def pack(value):
    """A MessagePack encoder for the tests (the receiver only decodes)."""
    if isinstance(value, str):
        raw = value.encode()
        return (bytes([0xa0 | len(raw)]) if len(raw) < 32 else b"\xd9" + bytes([len(raw)]) if len(raw) < 256
                else b"\xda" + struct.pack(">H", len(raw))) + raw
    if isinstance(value, bytes):
        return b"\xc5" + struct.pack(">H", len(value)) + value
    if isinstance(value, bool):
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        return bytes([value]) if 0 <= value < 128 else b"\xce" + struct.pack(">I", value)
    if isinstance(value, float):  # as Fluentd's EventTime
        return b"\xd7\x00" + struct.pack(">II", int(value), int(round((value % 1) * 1e9)))
    if isinstance(value, list):
        return (bytes([0x90 | len(value)]) if len(value) < 16 else b"\xdc" + struct.pack(">H", len(value))) + b"".join(
            pack(item) for item in value)
    if isinstance(value, dict):
        return bytes([0x80 | len(value)]) + b"".join(pack(k) + pack(v) for k, v in value.items())
    raise TypeError(value)


@pytest.fixture
def trail(tmp_path):
    receiver.SETTINGS.update(log_file=str(tmp_path / "audit.log"), rotate_weeks=2, docker_auth_tag="sovereign-docker-auth")
    receiver.WRITTEN_CHUNKS.clear()
    return tmp_path / "audit.log"


def test_unpack_reads_what_docker_sends_and_waits_for_more_bytes():
    data = pack(["sovereign-docker-auth", 1765000000.25, {"log": LOGIN, "source": "stderr"}, {"chunk": "c1"}])
    value, used = receiver.unpack(data)
    assert used == len(data)
    assert value == ["sovereign-docker-auth", pytest.approx(1765000000.25), {"log": LOGIN, "source": "stderr"}, {"chunk": "c1"}]
    for cut in range(len(data)):
        with pytest.raises(receiver.Incomplete):
            receiver.unpack(data[:cut])


@pytest.mark.parametrize("value", [0, 127, 4000000000, -1, None, True, False, "x" * 40, b"raw", [1, [2, 3]], {"a": {"b": 1}}])
def test_unpack_round_trips(value):
    data = (b"\xff" if value == -1 else b"\xc0" if value is None else pack(value))
    assert receiver.unpack(data) == (value, len(data))


def test_the_message_forward_and_packed_forward_modes_give_the_same_events(trail):
    record = {"log": LOGIN}
    for message in (["sovereign-docker-auth", 1765000000, record, {"chunk": "c1"}],
                    ["sovereign-docker-auth", [[1765000000, record]], {"chunk": "c1"}],
                    ["sovereign-docker-auth", pack([1765000000, record]), {"chunk": "c1"}]):
        events, chunk = receiver.log_events(message)
        assert chunk == "c1"
        assert [(e["event"], e["user"], e["client"]) for e in events] == [("login", "alice", "10.0.0.5")]


def test_other_tags_and_lines_that_say_nothing_give_no_event(trail):
    assert receiver.log_events(["another-container", 1765000000, {"log": LOGIN}])[0] == []
    assert receiver.log_events(["sovereign-docker-auth", 1765000000, {"log": "Config ok, restarting server"}])[0] == []
    events = receiver.log_events(["sovereign-docker-auth", 1765000000, {"log": FAILED}])[0]
    assert [(e["event"], e["user"], e["scopes"]) for e in events] == [("login_failed", "bob", ["repository:web/app:pull"])]


def test_a_chunk_sent_again_is_written_once_even_after_a_restart(trail):
    events, chunk = receiver.log_events(["sovereign-docker-auth", 1765000000, {"log": LOGIN}, {"chunk": "c1"}])
    receiver.write(events, chunk)
    receiver.write(events, chunk)
    receiver.WRITTEN_CHUNKS.clear()
    receiver.remember_chunks()
    receiver.write(events, chunk)
    lines = [json.loads(line) for line in trail.read_text().splitlines()]
    assert [(line["user"], line["chunk"]) for line in lines] == [("alice", "c1")]
    assert oct(os.stat(trail).st_mode & 0o777) == "0o600"


def test_the_ack_is_a_map_of_ack_to_the_chunk():
    assert receiver.unpack(receiver.pack_ack("c" * 40))[0] == {"ack": "c" * 40}
    assert receiver.unpack(receiver.pack_ack("c1"))[0] == {"ack": "c1"}


def test_a_new_week_starts_a_new_file_and_old_ones_beyond_the_kept_weeks_go(trail):
    for weeks_ago in (3, 2, 1):
        trail.write_text("old\n")
        then = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(weeks=weeks_ago)).timestamp()
        os.utime(trail, (then, then))
        receiver.write([{"event": "login", "user": "w%d" % weeks_ago}])
    rotated = sorted(path.name for path in trail.parent.glob("audit.log.*"))
    assert len(rotated) == 2 and all(name.startswith("audit.log.") and "-W" in name for name in rotated)
    assert json.loads(trail.read_text().splitlines()[-1])["user"] == "w1"


def test_metrics_count_each_event_written_once_per_kind_never_per_user(trail):
    receiver.EVENT_COUNTS.clear()
    before = receiver.metrics()
    assert 'sovereign_registry_audit_events_total{event="login_failed"} 0' in before
    message = ["sovereign-docker-auth", [[1765000000, {"log": LOGIN}], [1765000001, {"log": FAILED}],
                                         [1765000002, {"log": FAILED}]], {"chunk": "m1"}]
    events, chunk = receiver.log_events(message)
    receiver.write(events, chunk)
    receiver.write(events, chunk)  # sent again after a lost acknowledgement: not counted twice
    text = receiver.metrics()
    assert 'sovereign_registry_audit_events_total{event="login"} 1' in text
    assert 'sovereign_registry_audit_events_total{event="login_failed"} 2' in text
    assert 'sovereign_registry_audit_events_total{event="push"} 0' in text
    assert "alice" not in text and "bob" not in text


def test_pushes_are_the_last_push_of_each_tag_across_the_rotated_weeks(trail):
    def push(repository, tag, digest, user):
        return {"time": "2026-12-0%sT10:00:00Z" % digest[-1], "event": "push", "user": user, "client": "10.0.0.5",
                "repository": repository, "tag": tag, "digest": digest}

    # An older week, rotated: tag 1 first pushed there, then again this week.
    rotated = trail.parent / "audit.log.2026-W48"
    rotated.write_text("".join(json.dumps(event) + "\n" for event in [
        push("web/app", "1", "sha256:1", "alice"), push("web/app", "2", "sha256:2", "bob")]))
    receiver.write([push("web/app", "1", "sha256:3", "carol"),
                    # Another repository whose name contains this one's, an index child (no tag), a delete.
                    push("web/app-old", "1", "sha256:4", "dave"), push("web/app", "", "sha256:5", "carol"),
                    {"event": "delete", "user": "admin", "repository": "web/app", "tag": "2", "digest": "sha256:2"}])
    found = receiver.pushes("web/app")
    assert {tag: (event["user"], event["digest"]) for tag, event in found.items()} == {
        "1": ("carol", "sha256:3"), "2": ("bob", "sha256:2")}
    assert receiver.pushes("no/such") == {}
