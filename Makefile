# One entry point for set-up, tests and the demo. Everything installs into .venv from pinned versions.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DB     ?= data/archive.db
PORT   ?= 8001
PORTAL_PORT ?= 8700

.PHONY: install system-deps test lint demo crawl serve bench bench-profile bench-quality \
	bench-analysis bench-real bench-distributed lock clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	# Make the project importable from every .venv tool (datasette plugins import archive/).
	$(BIN)/python -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], \
	  'fzzf-archive.pth').write_text('$(CURDIR)\n')"
	touch $(STAMP)

# Debian packages the tests drive (browser test: chromium; distributed test: redis-server;
# reports as files: tesseract + chi_sim for scans, antiword for DOC/WPS; LibreOffice writes the
# .doc/.wps test files, Noto CJK the test PDFs).
# Needs root; installs only what is missing. .ci/run calls it.
SYSTEM_DEPS := chromium chromium-driver fonts-noto-cjk redis-server tesseract-ocr tesseract-ocr-chi-sim \
               antiword libreoffice-writer-nogui
system-deps:
	@missing=""; for p in $(SYSTEM_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; if [ -n "$$missing" ]; then echo "apt-get install$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The main job on the embedded default: sample portal on 127.0.0.1 -> crawl -> Datasette on :8001.
demo: $(STAMP)
	$(BIN)/python -m crawler.demo --portal-port $(PORTAL_PORT) --port $(PORT)

# The real registry into the default archive (needs internet).
crawl: $(STAMP)
	mkdir -p $(dir $(DB))
	$(BIN)/scrapy crawl reports -a sources=crawler/sources.yaml -s ARCHIVE_DB=$(DB)

# A missing archive is one line naming what to pass, not Datasette's usage error.
NO_DB_MSG = make serve: no archive at $(DB); pass DB=PATH, e.g. make serve DB=data/demo/archive.db \
  (the archive make demo builds; make crawl builds data/archive.db)
serve: $(STAMP)
	@test -f "$(DB)" || { echo "$(NO_DB_MSG)" >&2; exit 2; }
	$(BIN)/datasette serve $(DB) -m datasette/metadata.yml --plugins-dir datasette/plugins \
	  --template-dir datasette/templates -p $(PORT)

# Speed on a synthetic 20 × 100-page portal served by nginx (installed with apt-get if missing):
# bare fetch vs full crawl (median of three paired runs, on the portal's pages and on 33 KiB
# pages, with CPU ms/page), re-crawl, reextract, search latency at 10,000 reports.
bench: $(STAMP)
	$(BIN)/python -m bench.perf

# Distributed mode (#20): one process vs one writer + two crawlers on 40 slow hosts (127.0.3.x,
# 1 s per answer), default settings; wall and crawl time, peak simultaneous requests per host.
bench-distributed: $(STAMP)
	$(BIN)/python -m bench.distributed

# Where the crawl's CPU goes (py-spy over the bench crawl; py-spy installed separately, see
# bench/profile.py).
bench-profile: $(STAMP)
	$(BIN)/python -m bench.profile

# Cleaner quality on the labelled corpus, ours vs plain trafilatura (prints a table).
bench-quality: $(STAMP)
	$(BIN)/python -m bench.quality

# Parts and figures (#18) against the labelled set: precision/recall per indicator family, parts
# accuracy, cost per report. Reads the seed reports from ../shared/seeds (FZZF_SEEDS=…).
bench-analysis: $(STAMP)
	$(BIN)/python -m bench.analysis

# Cleaner on real portal pages read from ../shared/real-pages, ours vs plain trafilatura (issue #16).
bench-real: $(STAMP)
	$(BIN)/python -m bench.real_pages

lock:
	{ echo "# Full pinned dependency set (direct pins live in pyproject.toml). Regenerate: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > requirements.lock.new && \
	  mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
