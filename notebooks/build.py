"""Build the walkthrough notebooks from the cells below (``python notebooks/build.py``).

The notebooks are committed without outputs; ``tests/report/test_notebooks.py`` executes them
(so they never rot) and checks that the committed files are what this script builds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
from pathlib import Path
import tempfile

import matplotlib.pyplot as plt
import pandas as pd

import inspector

# The notebooks run from the notebooks/ folder (Jupyter's default) or from the repository root.
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
CAPTURE = ROOT / "captures" / "zoom-2020.pcap"
pd.set_option("display.max_colwidth", 120)
"""

JOURNALIST = [
    new_markdown_cell(
        "# From a capture to publishable findings\n\n"
        "This walkthrough takes a packet capture of a video call and turns it into findings you "
        "can quote, charts you can show, and evidence an editor or a reviewer can check.\n\n"
        "The capture used here, `captures/zoom-2020.pcap`, is a small synthetic recording of a "
        "2020-style Zoom meeting made by the project (it is not a real person's traffic). To use "
        "your own, record the call with Wireshark or `tcpdump -w call.pcap` and change `CAPTURE` "
        "below."
    ),
    new_code_cell(SETUP),
    new_markdown_cell(
        "## 1. Analyse the capture\n\n"
        "`inspector.analyze` reads the capture offline. Nothing is sent anywhere."
    ),
    new_code_cell(
        "result = inspector.analyze(CAPTURE)\n"
        "packets = result.summary['packets']\n"
        "print(f\"{packets['total']} packets read, \"\n"
        "      f\"{result.summary['flows']} connections (flows)\")\n"
        "result.sessions[['session_id', 'app', 'duration_s', 'flows', 'media_verdicts', "
        "'third_party_destinations']]"
    ),
    new_markdown_cell(
        "## 2. The findings\n\n"
        "One row per finding, most serious first within each session. `explanation` is written to "
        "be quoted; `caveat` says what the finding does **not** prove."
    ),
    new_code_cell(
        "findings = result.findings\n"
        "findings[['finding_id', 'severity', 'finding', 'destination', 'organisation', "
        "'explanation']]"
    ),
    new_code_cell(
        "# The most serious finding, in full\n"
        "top = findings.iloc[0]\n"
        "for column in ['explanation', 'evidence', 'caveat', 'confidence', 'attribution_source']:\n"
        "    print(f'{column}: {top[column]}\\n')"
    ),
    new_markdown_cell(
        "## 3. Charts\n\n"
        "Where the data went (bytes in both directions, per organisation), and when each "
        "connection was active during the call."
    ),
    new_code_cell(
        "flows = result.flows.copy()\n"
        "flows['bytes'] = flows['orig_bytes'] + flows['resp_bytes']\n"
        "flows['organisation'] = flows['organisation'].replace('', 'unknown')\n"
        "per_org = flows.groupby('organisation')['bytes'].sum().sort_values()\n"
        "ax = per_org.plot.barh(figsize=(7, 3), color='#2471a3')\n"
        "ax.set_xlabel('bytes'); ax.set_ylabel(''); ax.set_title('Bytes per organisation')\n"
        "plt.tight_layout(); plt.show()"
    ),
    new_code_cell(
        "start = flows['ts'].min()\n"
        "colours = {'media': '#1f618d', 'signalling': '#5dade2', 'third-party telemetry': "
        "'#c0392b', 'dns': '#27ae60'}\n"
        "fig, ax = plt.subplots(figsize=(8, 3))\n"
        "for i, f in enumerate(flows.sort_values('ts').itertuples()):\n"
        "    ax.broken_barh([(f.ts - start, max(f.duration_s, 0.02))], (i - 0.4, 0.8),\n"
        "                   color=colours.get(f.role, '#95a5a6'))\n"
        "labels = [n or h for n, h in zip(flows.sort_values('ts')['server_name'], "
        "flows.sort_values('ts')['resp_h'])]\n"
        "ax.set_yticks(range(len(labels)), labels)\n"
        "ax.set_xlabel('seconds since the first packet')\n"
        "ax.set_title('Timeline of the connections'); plt.tight_layout(); plt.show()"
    ),
    new_markdown_cell(
        "## 4. Write the report\n\n"
        "`write_outputs` writes `report.html` (one self-contained page to send to an editor), "
        "`report.csv` (the findings for a spreadsheet) and every table as CSV and JSON. On the "
        "command line: `inspector analyze captures/zoom-2020.pcap -o out`."
    ),
    new_code_cell(
        "from inspector.report.outputs import write_outputs\n\n"
        "outdir = Path(tempfile.mkdtemp(prefix='inspector-walkthrough-'))\n"
        "write_outputs(result, outdir)\n"
        "sorted(p.name for p in outdir.iterdir())"
    ),
    new_markdown_cell(
        "## 5. Prove a claim\n\n"
        "Each finding has a Wireshark display filter and frame numbers. `export_evidence` "
        "(on the command line `inspector evidence OUTDIR F0001 -o F0001.pcap`) writes just the "
        "packets behind a finding to a small pcap you can hand to a reviewer."
    ),
    new_code_cell(
        "from inspector.report.evidence import export_evidence\n\n"
        "print('Wireshark filter:', top['evidence_filter'])\n"
        "done = export_evidence(outdir, top['finding_id'], outdir / 'evidence.pcap')\n"
        "print(f'{done.packets} packets written to {done.output}')"
    ),
    new_markdown_cell(
        "## 6. Before publishing\n\n"
        "`pseudonymize` replaces the device's own address, other local addresses and MAC "
        "addresses with stable tokens (`client-1`, `local-1`, ...) in every table and report. "
        "Public server addresses are kept: they are the evidence. On the command line: "
        "`inspector analyze ... --pseudonymize`."
    ),
    new_code_cell(
        "from inspector.report.pseudonymize import pseudonymize\n\n"
        "public = pseudonymize(result)\n"
        "public.findings[['finding_id', 'destination', 'evidence_filter']]"
    ),
]

RESEARCHER = [
    new_markdown_cell(
        "# Tables, joins and per-flow detail\n\n"
        "Every output table starts with `ts` and `uid`; `uid` identifies a flow and joins every "
        "table to `flows`. This notebook joins the tables of the sample capture and looks inside "
        "single flows. Column documentation: `python -m inspector schema` (docs/schema.md)."
    ),
    new_code_cell(SETUP),
    new_code_cell(
        "result = inspector.analyze(CAPTURE)\n"
        "pd.Series({name: len(frame) for name, frame in result.tables.items()}, name='rows')"
    ),
    new_markdown_cell("## Column types are declared once and kept (no CSV round-trip)"),
    new_code_cell("result.flows.dtypes.head(12)"),
    new_markdown_cell(
        "## Joining protocol tables to flows by `uid`\n\n"
        "TLS handshakes with the flow's organisation, category and verdict:"
    ),
    new_code_cell(
        "tls = result.tables['tls'].merge(\n"
        "    result.flows[['uid', 'resp_h', 'organisation', 'category', 'role', "
        "'encryption_verdict']],\n"
        "    on='uid', how='left', validate='many_to_one')\n"
        "tls[['uid', 'sni', 'version', 'cipher', 'organisation', 'category', 'encryption_verdict']]"
    ),
    new_markdown_cell(
        "## From a finding to its flows\n\n"
        "`findings.uids` lists the flows behind each finding, ';'-joined."
    ),
    new_code_cell(
        "f = result.findings.assign(uid=result.findings['uids'].str.split(';')).explode('uid')\n"
        "f.merge(result.flows, on='uid', suffixes=('', '_flow'))[\n"
        "    ['finding_id', 'finding', 'uid', 'proto', 'resp_h', 'resp_p', 'orig_bytes', "
        "'resp_bytes', 'encryption_evidence']]"
    ),
    new_markdown_cell(
        "## DNS: which name pointed to which address\n\n"
        "`dns_answers` has one row per answer record; joining on the answered address shows "
        "which lookup named each flow."
    ),
    new_code_cell(
        "answers = result.tables['dns_answers']\n"
        "named = result.flows.merge(answers[['value', 'query', 'frame']], left_on='resp_h', "
        "right_on='value', how='inner')\n"
        "named[['uid', 'resp_h', 'query', 'frame', 'server_name', 'server_name_source']]"
    ),
    new_markdown_cell(
        "## Per-flow detail: packets of the media flows\n\n"
        "`inspector.pipeline.flow_views` yields each flow as the dissectors see it: for UDP the "
        "first datagrams with their frame numbers, times and payloads."
    ),
    new_code_cell(
        "from inspector.pipeline import flow_views\n\n"
        "media = set(result.flows.loc[result.flows['role'] == 'media', 'uid'])\n"
        "rows = []\n"
        "for view in flow_views(str(CAPTURE)):\n"
        "    if view.uid in media:\n"
        "        for d in view.datagrams:\n"
        "            rows.append({'uid': view.uid, 'frame': d.frame, 'ts': d.ts, "
        "'from_orig': d.from_orig, 'payload_bytes': len(d.payload)})\n"
        "packets = pd.DataFrame(rows)\n"
        "packets.groupby(['uid', 'from_orig'])['payload_bytes'].describe()"
    ),
    new_code_cell(
        "fig, ax = plt.subplots(figsize=(8, 3))\n"
        "for uid, group in packets[packets['from_orig']].groupby('uid'):\n"
        "    ax.plot(group['ts'] - packets['ts'].min(), group['payload_bytes'], '.', "
        "markersize=3, label=uid)\n"
        "ax.set_xlabel('seconds'); ax.set_ylabel('payload bytes'); ax.legend(fontsize=7)\n"
        "ax.set_title('Media datagram sizes (client to server)'); plt.tight_layout(); plt.show()"
    ),
    new_markdown_cell(
        "## Verdicts with their evidence and caveats\n\n"
        "Every verdict carries what on the wire supports it and what it does not prove."
    ),
    new_code_cell(
        "result.flows[['uid', 'server_name', 'role', 'encryption_verdict', "
        "'encryption_confidence', 'encryption_evidence', 'encryption_caveat']]"
    ),
    new_markdown_cell(
        "## Packet accounting\n\nEvery packet read is decoded, skipped or malformed."
    ),
    new_code_cell(
        "pk = result.summary['packets']\n"
        "assert pk['total'] == pk['decoded'] + pk['skipped_total'] + pk['malformed_total']\n"
        "pk"
    ),
]

NOTEBOOKS = {
    "journalist-walkthrough.ipynb": JOURNALIST,
    "researcher-tables.ipynb": RESEARCHER,
}


def build(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` (no outputs, stable cell ids)."""
    nb = new_notebook(cells=[nbformat.from_dict(c) for c in NOTEBOOKS[name]])
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write_all(folder: Path = HERE) -> list[Path]:
    written = []
    for name in NOTEBOOKS:
        path = folder / name
        nbformat.write(build(name), path)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
