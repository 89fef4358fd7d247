"""scan_log: what a log shows, in bounded memory."""
import io
import tracemalloc

from app.triage.logscan import BLOCK, MAX_DISTINCT, Findings, scan_log, template

EXOS_LOG = b"""\
11/19/2026 02:10:00.00 <Info:System.Startup> Image : ExtremeXOS version 32.6.1.4 by release-manager
11/19/2026 02:11:00.00 <Info:vlan.msgs.portLinkStateUp> Port 1:1 link UP at speed 1 Gbps
11/19/2026 02:12:00.00 <Erro:HAL.Port.Error> Slot-1: Port 1:49 link flap detected 12 times
11/19/2026 02:12:30.00 <Erro:HAL.Port.Error> Slot-1: Port 1:50 link flap detected 3 times
11/19/2026 02:13:58.02 <Crit:Kern.Card.Error> Unable to handle kernel NULL pointer dereference at virtual address 00000010
11/19/2026 02:13:58.03 <Crit:Kern.Card.Error> Kernel panic - not syncing: Fatal exception
"""


def test_finds_version_crash_signatures_and_error_lines():
    findings = scan_log(io.BytesIO(EXOS_LOG))
    assert findings.software_version == "32.6.1.4"
    assert [c.text for c in findings.crash_signatures] == [
        "Crit:Kern.Card.Error> Unable to handle kernel NULL pointer dereference at virtual address <hex>",
        "Crit:Kern.Card.Error> Kernel panic - not syncing: Fatal exception"]
    [error] = findings.error_lines  # the two flap lines differ only in numbers: one template
    assert error.text == "Erro:HAL.Port.Error> Slot-#: Port #:# link flap detected # times"
    assert (error.count, error.first_line) == (2, 3)
    assert error.sample.startswith("11/19/2026 02:12:00.00 <Erro:HAL.Port.Error>")
    assert findings.lines == 6 and findings.bytes == len(EXOS_LOG)


def test_other_vendors_formats():
    voss = b"IO1 [11/20/26 00:01:12:250] 0x0000c5f8 00000000 GlobalRouter SW ERROR cbcp-main.x: received SIGSEGV\n" \
           b"CP1 [11/20/26 00:01:12:305] GlobalRouter SW INFO Software version 8.10.1.0\n"
    wing = b"Nov 20 10:14:22 ap5020 %KERN-2-CRASH: cfgd crashed (signal 11)\n" \
           b"Nov 20 10:16:40 ap5020 %ADOPT-5-ADOPTED: adopted, version 7.9.3.0-005R\n"
    found_voss, found_wing = scan_log(io.BytesIO(voss)), scan_log(io.BytesIO(wing))
    assert found_voss.software_version == "8.10.1.0"
    assert found_voss.crash_signatures[0].text.endswith("GlobalRouter SW ERROR cbcp-main.x: received SIGSEGV")
    assert found_wing.software_version == "7.9.3.0-005R"
    assert found_wing.crash_signatures[0].text == "ap5020 %KERN-#-CRASH: cfgd crashed (signal #)"


def test_masks_what_varies():
    assert template("2026-11-19T02:12:00Z host 10.0.0.1 mac 00:11:22:33:44:55 at 0xdeadbeef pid 1432") == \
        "host <ip> mac <mac> at <hex> pid #"


def test_survives_binary_and_undecodable_bytes():
    findings = scan_log(io.BytesIO(b"\x00\xff\xfe ERROR \xc3\x28 bad bytes\n\x89PNG\r\n"))
    assert findings.error_lines[0].text == "\ufffd\ufffd ERROR \ufffd( bad bytes"


def _varied_log(quiet_lines: int) -> bytes:
    def generate():
        yield b"ExtremeXOS version 32.6.1.4\n"
        yield b"x" * 5_000_000 + b" ERROR in a line without end\n"  # one huge line
        for n in range(1_000):  # more distinct errors than are kept, differing in words, not just numbers
            yield f"<Erro:App.Fail> task{n:x}q failed in module m{n:x}z\n".encode()
        for _ in range(quiet_lines):
            yield b"11/19/2026 02:11:00.00 <Info:vlan.msgs.portLinkStateUp> Port 1:1 link UP at 1 Gbps\n"

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
    assert len(findings.error_lines) == MAX_DISTINCT and findings.dropped_distinct > 0
    assert findings.long_lines == 1 and findings.bytes == len(small) and findings.lines == 51_002
    findings, large_peak = _peak(large)
    assert findings.lines == 401_002
    assert large_peak < 6 * BLOCK, large_peak
    assert large_peak < small_peak * 1.2, (small_peak, large_peak)  # eight times the log, not more memory


def test_findings_round_trip_and_accept_plain_line_lists():
    findings = scan_log(io.BytesIO(EXOS_LOG))
    assert Findings.from_dict(findings.to_dict()) == findings
    simple = Findings.from_dict({"software_versions": ["32.6.1.4"], "crash_signatures": ["Process hal died 7"],
                                 "error_lines": ["<Erro:X> bad 5"], "lines": 3})
    assert simple.software_version == "32.6.1.4"
    assert [c.text for c in simple.crash_signatures] == ["Process hal died #"]
    assert Findings.from_dict({}) == Findings()
