"""The floor a crawl is compared with: trafilatura alone on the crawl's pages, one core, in a
process of its own (so its import is counted, as a crawl's is).

trafilatura's own entry point with its defaults, given the page bytes and the URL, as a
user of trafilatura alone would call it: no decoding, bylines, language or fingerprints of
ours. Prints one JSON line: pages, extracted, CPU of the import and of the loop.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def trafilatura_alone(files: list[Path], base: str, site: Path) -> dict:
    """Run the floor in a child process; adds its whole CPU (interpreter start included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    listing = "\n".join(f"{path}\t{base}/{path.relative_to(site).as_posix()}" for path in files)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            "from bench.crawl_floor import main; main()",
        ],
        input=listing,
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def main() -> None:
    start = time.process_time()
    import trafilatura

    imported = time.process_time()
    pages = [line.split("\t") for line in sys.stdin.read().splitlines() if line]
    extracted = 0
    loop_start = time.process_time()
    for path, url in pages:
        document = trafilatura.bare_extraction(Path(path).read_bytes(), url=url, with_metadata=True)
        extracted += document is not None and bool(document.text)
    end = time.process_time()
    print(
        json.dumps(
            {
                "pages": len(pages),
                "extracted": extracted,
                "import_cpu": imported - start,
                "loop_cpu": end - loop_start,
            }
        )
    )
