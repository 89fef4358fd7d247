"""Large synthetic release-notes sets and logs, for benchmarks.

`synthetic_notes` builds checked ReleaseNotes (the importer's own input), so
a benchmark exercises the real import. Each family has its releases spread
over release trains; every release opens new anomalies and fixes some older
ones of its train. Texts are drawn from a networking vocabulary so that BM25
sees realistic term statistics. Everything is seeded: the same arguments
give the same set.
"""
from __future__ import annotations

import hashlib
import random
from typing import BinaryIO, Iterator

from app.triage.notes_file import Entry, ReleaseNotes

FEATURES = ["IGMP snooping", "MLAG", "OSPF", "BGP", "LACP", "PoE", "fan tray", "power supply", "SNMP", "SSH",
            "DHCP snooping", "NTP", "image download", "transceiver", "EAPS", "sFlow", "web interface", "VRRP",
            "802.1X", "ACL policy", "spanning tree", "syslog", "VXLAN", "IS-IS", "Fabric Attach", "DvR",
            "RADIUS", "LLDP", "QoS", "stacking", "multicast", "MACsec", "DFS", "captive portal", "mesh",
            "roaming", "Bonjour gateway", "NetFlow", "telemetry", "PTP", "storm control", "port mirroring"]
SYMPTOMS = ["stops responding", "leaks memory", "reboots the switch", "drops traffic", "flaps", "shows a false alarm",
            "uses full CPU", "loses its configuration", "rejects valid packets", "times out", "forwards twice",
            "stays blocked", "crashes", "reports wrong counters", "fails to come up", "resets sessions"]
TRIGGERS = ["after a reboot", "under heavy load", "after an upgrade", "when a port is disabled", "after a failover",
            "when the table is full", "after 49 days of uptime", "when a module is hot-swapped",
            "with jumbo frames", "in a user virtual router", "with a large policy", "after a link flap"]
PROCESSES = ["hal", "mcmgr", "snmpMaster", "exsshd", "vsm", "ospf", "bgp", "epm", "nodemgr", "cfgd", "hsd",
             "cbcp-main.x", "lacp", "poed", "fdb", "rtmgr", "aaa", "netlogin", "devmgr", "thttpd"]
SEVERITIES = ["critical", "major", "minor", "cosmetic"]


def _anomaly_text(rng: random.Random, code: str) -> tuple[str, str, list[str]]:
    feature, symptom, trigger = rng.choice(FEATURES), rng.choice(SYMPTOMS), rng.choice(TRIGGERS)
    process = rng.choice(PROCESSES)
    title = f"{feature} {symptom} {trigger}"
    extra = rng.sample(FEATURES, 2)
    description = (f"When {feature} is configured together with {extra[0]}, the {process} process {symptom} "
                   f"{trigger}. Affected systems also show problems with {extra[1]} until {process} is "
                   f"restarted. Reference {code}.")
    signatures = [f"Process {process} {symptom}", f"{process}_{feature.split()[0].lower()}_handler failed"]
    return title, description, signatures


def synthetic_notes(families: int = 20, releases: int = 2000, anomalies: int = 100_000,
                    seed: int = 7) -> Iterator[ReleaseNotes]:
    """Release notes for `families` families, `releases` releases and about `anomalies` anomalies in all."""
    rng = random.Random(seed)
    per_family = releases // families
    new_per_release = max(1, anomalies // releases)
    trains = max(1, per_family // 10)
    for f in range(families):
        family = f"SYN{f:02d}"
        open_by_train: dict[int, list[Entry]] = {t: [] for t in range(trains)}
        for r in range(per_family):
            train = r % trains
            version = f"{30 + train}.{f % 10}.{r // trains + 1}.{rng.randint(1, 40)}"
            entries = []
            still_open = open_by_train[train]
            rng.shuffle(still_open)
            fixed, open_by_train[train] = still_open[:new_per_release // 2], still_open[new_per_release // 2:]
            for entry in fixed:
                entries.append(Entry("fixed", entry.code, entry.title, entry.description, entry.affected,
                                     [version], None, None, entry.signatures))
            for n in range(new_per_release):
                code = f"{family}-{r:04d}{n:03d}"
                title, description, signatures = _anomaly_text(rng, code)
                entry = Entry("known", code, title, description, [f">={version}"], [],
                              "Restart the process." if rng.random() < 0.5 else None,
                              rng.choice(SEVERITIES), signatures)
                entries.append(entry)
                open_by_train[train].append(entry)
            digest = hashlib.sha256(f"{seed}:{family}:{version}".encode()).hexdigest()
            yield ReleaseNotes(family, version, None, None, entries, source=f"synthetic:{family}:{version}",
                               digest=digest)


def _varied_lines(rng: random.Random, count: int) -> list[bytes]:
    """`count` distinct EXOS-style event lines, differing in words (not only numbers), of every severity."""
    severities = [b"Info", b"Info", b"Noti", b"Warn", b"Erro"]
    lines = []
    for n in range(count):
        process, feature = PROCESSES[n % len(PROCESSES)], FEATURES[(n // len(PROCESSES)) % len(FEATURES)]
        symptom = SYMPTOMS[(n // 7) % len(SYMPTOMS)]
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
        lines.append(b"<%s:%s.%s> %s %s %s in %s (port %%d)" % (
            severities[n % len(severities)], process.encode(), word.encode(), feature.encode(), symptom.encode(),
            word.encode(), process.encode()))
    return lines


def write_synthetic_log(out: BinaryIO, size: int, seed: int = 11, signature: str | None = None,
                        variety: int = 0) -> int:
    """Write about `size` bytes of EXOS-style log (mostly routine, some errors, a crash); returns bytes written.

    With `variety`, a tenth of the lines come from that many distinct events, so that the log holds more
    kinds of line than a scan keeps.
    """
    rng = random.Random(seed)
    varied = _varied_lines(rng, variety)
    routine = [b"<Info:vlan.msgs.portLinkStateUp> Port 1:%d link UP at speed 1 Gbps",
               b"<Info:AAA.authPass> Login passed for user admin through ssh (10.0.%d.5)",
               b"<Noti:DM.Notice> Slot-1: fan speed %d RPM within range",
               b"<Info:cm.sys.actionSuccess> Configuration saved to primary.cfg (%d bytes)"]
    errors = [b"<Erro:HAL.Port.Error> Slot-1: Port 1:%d link flap detected",
              b"<Warn:EPM.cpu> Process snmpMaster CPU utilization %d%%",
              b"<Erro:ospf.neighbor.Down> Neighbor 10.1.%d.2 down: dead timer expired"]
    written = out.write(b"11/19/2026 00:00:00.00 <Info:System.Startup> ExtremeXOS version 32.6.1.4\n")
    n = 0
    while written < size:
        n += 1
        stamp = b"11/19/2026 %02d:%02d:%02d.%02d " % (n // 360000 % 24, n // 6000 % 60, n // 100 % 60, n % 100)
        draw = rng.random()
        pick = errors if draw < 0.05 else varied if varied and draw < 0.15 else routine
        line = stamp + rng.choice(pick) % (n % 48 + 1) + b"\n"
        if signature and n % 50_000 == 0:
            line = stamp + signature.encode() + b"\n"
        written += out.write(line)
    return written
