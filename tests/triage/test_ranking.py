"""Ranking with every log line: findings boost, they do not filter; each suggestion explains itself."""
import io

import pytest

from app.extensions import db
from app.triage.catalogue import seed_sample_notes
from app.triage.logscan import scan_log
from app.triage.ranking import load_index, rank

VAGUE = "The access point restarted by itself this morning. Log attached."


@pytest.fixture
def xiq(ctx):
    seed_sample_notes()
    return load_index(db.session, "XIQ")


def _rank(index, log: bytes, text: str = VAGUE, version: str = "10.6r3"):
    return rank(index, version, text, [scan_log(io.BytesIO(log))])


def test_a_routine_line_naming_the_anomaly_still_counts(xiq):
    # No error, no crash wording: an informational line is all the log says, and it is enough to rank.
    log = b"2026-11-09 21:04:11 info    ah_scd: image download started, ah_scd firmware download over slow WAN\n"
    found = scan_log(io.BytesIO(log))
    assert not found.crash_signatures and not found.error_lines and found.other_lines
    assert _rank(xiq, log)[0].code == "XIQ-5227"


def test_a_crash_signature_boosts_the_same_words(xiq):
    plain = b"2026-11-14 07:58:02 err     kernel: ah_dcd[1422]: unexpected roaming event in ah_dcd\n"
    crash = b"2026-11-14 07:58:02 err     kernel: ah_dcd[1422]: segfault at 0 ip 00412b3c error 4 in ah_dcd\n"
    quiet, loud = _rank(xiq, plain), _rank(xiq, crash)
    assert quiet[0].code == loud[0].code == "XIQ-5140"
    assert loud[0].log_score > quiet[0].log_score  # same severity: the signature is the difference
    assert loud[0].signature_kinds == ["segfault"] and quiet[0].signature_kinds == []
    # The confidence weighs more than the crash kind: a segfault alone is no proof of the anomaly (the
    # calibration learned a shared crash kind without shared words to be a weak sign); both are findings.
    assert loud[0].finding and quiet[0].finding


def test_each_suggestion_says_why(xiq):
    log = (b"2026-11-10 05:52:10 info    ah_auth: CWP session ended (idle timeout)\n"
           b"2026-11-10 05:58:03 err     kernel: Out of memory: Killed process 1187 (ah_auth) total-vm:96544kB\n"
           b"2026-11-10 05:58:05 crit    ah_pm: critical process ah_auth lost, rebooting system\n")
    top = _rank(xiq, log, text="Guest AP with the captive web portal restarted.")[0]
    assert top.code == "XIQ-5152" and top.finding
    # The words it shares with the case and log, as they were written there.
    assert {"captive", "portal", "Guest"} <= set(top.matched_terms) and "ah_auth" in top.matched_terms
    # The log lines that matched, as the log wrote them, the out-of-memory line first.
    assert top.log_evidence[0].startswith("2026-11-10 05:58:03 err     kernel: Out of memory")
    assert "out_of_memory" in top.signature_kinds


def test_the_version_range_holds_whatever_the_log_says(xiq):
    log = b"2026-11-14 07:58:02 err     kernel: ah_dcd[1422]: segfault at 0 ip 00412b3c error 4 in ah_dcd\n"
    assert "XIQ-5140" not in [s.code for s in _rank(xiq, log, version="10.7r1")]  # fixed there


def test_nothing_known_gives_no_finding(xiq):
    # A crash of a process no anomaly names: suggestions may come, none confident enough to be a finding.
    log = b"2026-11-04 03:11:21 err     kernel: ah_lldp[977]: segfault at 1c ip 0040f0aa error 4 in ah_lldp\n"
    assert not any(s.finding for s in _rank(xiq, log, text="AP restarted once, can you check."))
