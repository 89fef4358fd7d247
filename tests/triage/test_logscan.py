"""scan_log: any log's version, lines and crash signatures, in bounded memory."""
import io
import tracemalloc

import pytest

from app.triage.logscan import BLOCK, MAX_DISTINCT, Findings, LineReader, log_language, scan_log, template

EXOS_LOG = b"""\
11/19/2026 02:10:00.00 <Info:System.Startup> Image : ExtremeXOS version 32.6.1.4 by release-manager
11/19/2026 02:11:00.00 <Info:vlan.msgs.portLinkStateUp> Port 1:1 link UP at speed 1 Gbps
11/19/2026 02:12:00.00 <Erro:HAL.Port.Error> Slot-1: Port 1:49 link flap detected 12 times
11/19/2026 02:12:30.00 <Erro:HAL.Port.Error> Slot-1: Port 1:50 link flap detected 3 times
11/19/2026 02:13:58.02 <Crit:Kern.Card.Error> Unable to handle kernel NULL pointer dereference at virtual address 00000010
11/19/2026 02:13:58.03 <Crit:Kern.Card.Error> Kernel panic - not syncing: Fatal exception
"""


def test_finds_version_crash_signatures_error_lines_and_the_rest():
    findings = scan_log(io.BytesIO(EXOS_LOG))
    assert findings.software_version == "32.6.1.4"
    assert [c.text for c in findings.crash_signatures] == [
        "Kern.Card.Error Unable to handle kernel NULL pointer dereference at virtual address <hex>",
        "Kern.Card.Error Kernel panic - not syncing: Fatal exception"]
    assert findings.crash_signatures[1].kinds == ["kernel_panic", "exception"]
    [error] = findings.error_lines  # the two flap lines differ only in numbers: one template
    assert error.text == "HAL.Port.Error Slot-#: Port #:# link flap detected # times"
    assert (error.count, error.first_line, error.severity) == (2, 3, "error")
    assert error.sample.startswith("11/19/2026 02:12:00.00 <Erro:HAL.Port.Error>")
    # Routine lines are kept too: every line can take part in ranking.
    assert [(o.text, o.severity) for o in findings.other_lines] == [
        ("System.Startup Image : ExtremeXOS version <ip> by release-manager", "info"),
        ("vlan.msgs.portLinkStateUp Port #:# link UP at speed # Gbps", "info")]
    assert findings.lines == 6 and findings.bytes == len(EXOS_LOG)
    assert findings.formats == {"exos": 5}
    assert findings.fault_kinds == {"kernel_panic": 2, "exception": 1}


# One line of each format a partner may attach: (line, format, severity, component, message).
FORMATS = [
    ("11/19/2026 02:12:00.00 <Erro:HAL.Port.Error> Slot-1: Port 1:49 link flap",
     "exos", "error", "HAL.Port.Error", "Slot-1: Port 1:49 link flap"),
    ("CP1  [11/20/26 00:01:12:250:UTC] 0x0000c5f8 00000000 GlobalRouter SW ERROR cbcp-main.x: received SIGSEGV",
     "voss", "error", "SW", "cbcp-main.x: received SIGSEGV"),
    ("Nov 20 10:14:22 2026: ap5020-3: %KERN-2-CRASH: cfgd crashed (signal 11)",
     "wing+mnemonic", "crit", "KERN-2-CRASH", "cfgd crashed (signal 11)"),
    ("2026-11-14 07:58:02 err     kernel: ah_dcd[1422]: segfault at 0 ip 00412b3c",
     "iq-engine", "error", "kernel", "ah_dcd[1422]: segfault at 0 ip 00412b3c"),
    ("2026-11-12 10:14:31,904 ERROR [StatsCollector-3] c.e.x.stats.Ingest - java.lang.OutOfMemoryError: Java heap space",
     "log4j", "error", "StatsCollector-3", "java.lang.OutOfMemoryError: Java heap space"),
    ("<27>1 2026-11-13T14:22:09.450Z AP305C-W7 ah_dcd 1422 - - PMK-R1 push failed",
     "rfc5424", "error", "ah_dcd", "PMK-R1 push failed"),
    ('<165>1 2026-11-13T14:22:09Z host app 12 ID47 [exampleSDID@32473 iut="3"] event written',
     "rfc5424", "info", "app", "event written"),
    ("<11>Nov  8 16:02:10 xcc-e2120 kernel: nsm[2201]: segfault at 18 ip 00007f3a2c1b0e4d",
     "rfc3164", "error", "kernel", "nsm[2201]: segfault at 18 ip 00007f3a2c1b0e4d"),
    # A device's own line relayed by a syslog server is read in the device's format.
    ("<186>Nov 19 12:01:45 vsp-core2 CP1 [11/19/26 12:01:45:301:UTC] 0x00010774 GlobalRouter SW ERROR Task died",
     "rfc3164+voss", "error", "SW", "Task died"),
    ("<187>Nov 25 09:12:01 ap5020-new-4 %ADOPT-6-ADOPTING: adopting to rfs-ctrl",
     "rfc3164+mnemonic", "info", "ADOPT-6-ADOPTING", "adopting to rfs-ctrl"),
    ("Nov 16 09:00:04 vsp4900-core1 snmpd[2103]: walk of rcIsisPlsbNodeTable",
     "syslog-file", "", "snmpd", "walk of rcIsisPlsbNodeTable"),
    ("2026-11-10T16:45:02.118+01:00 x690-core EPM[1201]: <Crit:EPM.Process.Died> Process hal died with signal 6",
     "syslog-file+exos-tagged", "crit", "EPM.Process.Died", "Process hal died with signal 6"),
    ("[ 8812.402388] Kernel panic - not syncing: Fatal exception",
     "kernel", "crit", "", "Kernel panic - not syncing: Fatal exception"),
    ('{"@timestamp":"2026-11-17T21:40:31Z","severity":"crit","component":"EPM.Process.NotResponding",'
     '"msg":"Slot-3: Process mcmgr not responding"}',
     "json-lines", "crit", "EPM.Process.NotResponding", "Slot-3: Process mcmgr not responding"),
    ('{"time":"2026-11-27T19:40:30Z","facility":"SYSTEM","severity":2,"message":"low memory, restarting"}',
     "json-lines", "crit", "SYSTEM", "low memory, restarting"),
    ('{"log":{"level":"warning"},"event":{"original":"disk almost full"}}',
     "json-lines", "warning", "", "disk almost full"),
    # Unknown dialects are still read: the severity comes from the words.
    ("some appliance said: FATAL could not start", "", "crit", "", "some appliance said: FATAL could not start"),
]


@pytest.mark.parametrize("line,fmt,severity,component,message", FORMATS, ids=[f"{n}-{f[1] or 'unknown'}" for n, f in enumerate(FORMATS)])
def test_reads_every_known_format(line, fmt, severity, component, message):
    read = LineReader().read(line)
    assert (read.format, read.severity, read.component, read.message) == (fmt, severity, component, message)


# Crash and fault wordings of network operating systems, and the kind each is recognised as.
WORDINGS = [
    ("ah_dcd[1422]: segfault at 0 ip 00412b3c sp 7fd9e2a0 error 4 in ah_dcd[400000+8a000]", "segfault"),
    ("Segmentation fault (core dumped)", "segfault"),
    ("cbcp-main.x received SIGSEGV", "segfault"),
    ("rfmgr terminated with signal 11", "segfault"),
    ("Process hal died with signal 6", "abort"),
    ("cm aborted (core dumped), restarting", "abort"),
    ("Out of memory: Killed process 1187 (ah_auth) total-vm:96544kB", "out_of_memory"),
    ("ipv6d invoked oom-killer: gfp_mask=0x100cca, order=0", "out_of_memory"),
    ("Exception in thread \"StatsCollector-3\" java.lang.OutOfMemoryError: Java heap space", "out_of_memory"),
    ("malloc: Cannot allocate memory", "out_of_memory"),
    ("low memory, restarting access point", "out_of_memory"),
    ("Kernel panic - not syncing: Fatal exception in interrupt", "kernel_panic"),
    ("Unable to handle kernel NULL pointer dereference at virtual address 00000008", "kernel_panic"),
    ("BUG: unable to handle page fault for address: 0000000000001a28", "kernel_panic"),
    ("watchdog: BUG: soft lockup - CPU#1 stuck for 22s!", "watchdog"),
    ("NMI watchdog: Watchdog detected hard LOCKUP on cpu 1", "watchdog"),
    ("Node rebooted by process watchdog", "watchdog"),
    ("Core dump of process hal written to /usr/local/tmp/core.hal.1388.gz", "core_dump"),
    ("Process 2201 (nsm) of user 0 dumped core.", "core_dump"),
    ("cfgd crashed (signal 6), saving crashinfo", "core_dump"),
    ("hal_acl_install.c:912: hal_acl_install: Assertion `entryIdx < maxEntries' failed.", "assertion"),
    ("ASSERT failed: mltmgr.c:1412 mlt_port_remove(): port still active", "assertion"),
    ("wifi0: assertion failed: atf_sched.c:412", "assertion"),
    ("Call Trace:", "stack_trace"),
    ("#0  0x00007f3a2c1b0e4d topo_release (libnsm.so)", "stack_trace"),
    ("\tat com.extreme.xcc.stats.Ingest.run(Ingest.java:212)", "stack_trace"),
    ("pc : bcm_port_speed_set+0x1c8/0x4a0 [linux_kernel_bde]", "stack_trace"),
    ("INFO: task ah_scd:2231 blocked for more than 120 seconds.", "task_hung"),
    ("Process mcmgr not responding", "task_hung"),
    ("System boot, last reset reason: watchdog timeout", "restart_reason"),
    ("reboot reason: kernel panic", "restart_reason"),
    ("config rollback not supported for logical-intf isis 1", "config_failure"),
    ("delta config not supported for this image, full config required", "config_failure"),
    ("commit failed for profile store: wlan guest-tunnel vlan-pool", "config_failure"),
    ("process ah_dcd exited on signal 11, restarting", "process_died"),
    ("critical process ah_auth lost, rebooting system", "process_died"),
    ("Fan tray 1 fan 3 failed, fan speed reading 0 RPM", "hardware_fault"),
    ("could not extend file \"base/16384/18211\": No space left on device", "disk_full"),
]


@pytest.mark.parametrize("line,kind", WORDINGS, ids=[w[0][:40] for w in WORDINGS])
def test_recognises_crash_and_fault_wordings(line, kind):
    assert kind in log_language().kinds(line)


@pytest.mark.parametrize("line", [
    "Port 1:1 link UP at speed 1 Gbps", "Login passed for user admin through ssh (10.1.2.3)",
    "scheduled reboot (network policy \"Nightly\") starting", "Configuration saved to primary.cfg",
    "reboot command issued by admin", "Restarting system.", "nightly purge of statistics started",
    "client 3a:11:7f:02:9c:41 reassociated with new address 6e:20:91:c4:08:13",
])
def test_routine_lines_show_no_signature(line):
    assert log_language().kinds(line) == []


def test_crashes_of_other_families_are_crash_signatures():
    logs = {
        b"CP1  [11/20/26 00:01:12:250:UTC] 0x0000c5f8 00000000 GlobalRouter SW ERROR cbcp-main.x: received SIGSEGV\n"
        b"CP1  [11/20/26 00:01:12:305:UTC] GlobalRouter SW INFO Software version 8.10.1.0\n": "8.10.1.0",
        b"Nov 20 10:14:22 2026: ap5020: %KERN-2-CRASH: cfgd crashed (signal 11)\n"
        b"Nov 20 10:16:40 2026: ap5020: %ADOPT-5-ADOPTED: adopted, version 7.9.3.0-005R\n": "7.9.3.0-005R",
        b"2026-11-07 02:00:14 info    ah_scd: firmware 10.6r4 activated\n"
        b"2026-11-07 02:14:31 err     kernel: Out of memory: Killed process 1187 (ah_auth)\n": "10.6r4",
        b"<131>1 2026-11-01T00:00:05Z xcc-1 svcmgr 1 - - XCC version 10.06.01.0012 started\n"
        b"<131>1 2026-11-01T00:00:35Z xcc-1 kernel - - - nsm[2201]: segfault at 18 ip 00007f3a2c1b0e4d\n":
            "10.06.01.0012",
    }
    for log, version in logs.items():
        findings = scan_log(io.BytesIO(log))
        assert findings.software_version == version
        assert len(findings.crash_signatures) == 1, findings


def test_masks_what_varies():
    assert template("2026-11-19T02:12:00Z host 10.0.0.1 mac 00:11:22:33:44:55 at 0xdeadbeef pid 1432") == \
        "host <ip> mac <mac> at <hex> pid #"


def test_survives_binary_and_undecodable_bytes():
    findings = scan_log(io.BytesIO(b"\x00\xff\xfe ERROR \xc3\x28 bad bytes\n\x89PNG\r\n"))
    assert findings.error_lines[0].text == "\ufffd\ufffd ERROR \ufffd( bad bytes"


def _word(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 26)
        out += letters[r]
        if n == 0:
            return out


def _varied_log(quiet_lines: int) -> bytes:
    def generate():
        yield b"ExtremeXOS version 32.6.1.4\n"
        yield b"x" * 5_000_000 + b" ERROR in a line without end\n"  # one huge line
        for n in range(1_000):  # more distinct errors than are kept, differing in words, not just numbers
            yield f"<Erro:App.Fail> task{_word(n)} failed in module mod{_word(n)}\n".encode()
        for _ in range(quiet_lines):
            yield b"11/19/2026 02:11:00.00 <Info:vlan.msgs.portLinkStateUp> Port 1:1 link UP at 1 Gbps\n"
        for n in range(1_000):  # and more distinct routine lines than are kept
            yield f"<Info:App.Note> user{_word(n)} logged in\n".encode()

    return b"".join(generate())


def _peak(data: bytes):
    stream = io.BytesIO(data)
    tracemalloc.start()
    findings = scan_log(stream)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return findings, peak


def test_memory_stays_bounded_whatever_the_size_and_variety():
    small, large = _varied_log(50_000), _varied_log(400_000)
    findings, small_peak = _peak(small)
    assert len(findings.error_lines) == MAX_DISTINCT and len(findings.other_lines) == MAX_DISTINCT
    assert findings.dropped_distinct > 0
    assert findings.long_lines == 1 and findings.bytes == len(small) and findings.lines == 52_002
    # Every routine line is counted under its template, however many there are.
    [quiet] = [o for o in findings.other_lines if "portLinkStateUp" in o.text]
    assert quiet.count == 50_000
    findings, large_peak = _peak(large)
    assert findings.lines == 402_002
    assert large_peak < 6 * BLOCK, large_peak
    assert large_peak < small_peak * 1.2, (small_peak, large_peak)  # eight times the log, not more memory


def test_findings_round_trip_and_accept_plain_line_lists():
    findings = scan_log(io.BytesIO(EXOS_LOG))
    assert Findings.from_dict(findings.to_dict()) == findings
    simple = Findings.from_dict({"software_versions": ["32.6.1.4"], "crash_signatures": ["Process hal died 7"],
                                 "error_lines": ["<Erro:X> bad 5"], "lines": 3})
    assert simple.software_version == "32.6.1.4"
    assert [c.text for c in simple.crash_signatures] == ["Process hal died #"]
    assert simple.crash_signatures[0].kinds == ["process_died"]
    assert Findings.from_dict({}) == Findings()


def test_findings_stored_by_the_earlier_scanner_still_show_their_signatures():
    stored = {"software_version": "32.6.1.4", "lines": 4,
              "crash_signatures": [{"text": "Crit:EPM.Process.Died> Process hal died with signal #", "count": 1,
                                    "sample": "11/22/2026 07:45:31.90 <Crit:EPM.Process.Died> Process hal died "
                                              "with signal 6", "first_line": 3}]}
    [line] = Findings.from_dict(stored).crash_signatures
    assert line.kinds == ["abort", "process_died"] and line.count == 1 and line.first_line == 3
