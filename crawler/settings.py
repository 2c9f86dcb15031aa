"""Scrapy settings for the archive crawler: the one place crawl behaviour is configured.

Values that differ from Scrapy's defaults carry the default in a comment.
"""

import os

from archive.constants import default_db

BOT_NAME = "fzzf_archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"  # `crawl` validates sources.yaml before starting

# -- the archive ------------------------------------------------------------------------------
ARCHIVE_DB = default_db()
ARCHIVE_WRITER = True              # this process writes the archive (False: a distributed crawler
                                   # handing its items to the Redis writer: crawler.distributed)
ARCHIVE_REVALIDATE = True          # conditional requests for archived report pages
ARCHIVE_REVALIDATE_DAYS = 6.0      # pages confirmed more recently are not requested (weekly crawls
                                   # revalidate everything; 0 = revalidate on every crawl)
CRAWL_MAX_LISTING_PAGES = 30       # listing pages followed per start URL (bounded depth)
EXPLORE_MAX_REQUESTS = 60          # a portal's exploration for its report columns: requests (not
                                   # counting robots.txt, the columns' pages and their reports)
EXPLORE_MAX_DEPTH = 4              # clicks from the portal's home page
ARCHIVE_WORKERS = None             # extraction processes; None = one per core; 0 = in-thread
ARCHIVE_BATCH_SIZE = 50            # pages per write transaction
ARCHIVE_FLUSH_SECONDS = 1.0        # pending pages are written at least this often
ARCHIVE_WRITER_PROCESS = False     # True: write the archive from a child process instead of a
                                   # thread (less CPU in the crawl process, but each page is pickled
                                   # once more: measured slower and bigger, docs/performance.md)
ARCHIVE_REDIS_JOB = None           # set by `python -m crawler.distributed crawler`: the Redis job
ARCHIVE_REDIS_MAX_ITEMS = 2000     # distributed mode: crawlers wait while this many items queue
ARCHIVE_REDIS_TTL = 20             # distributed mode: s without a heartbeat = crawler/writer dead,
                                   # its leased requests given back; Redis unreachable this long
                                   # ends a process (exit 5)
# Reports as files (archive.files): a refused file is recorded with its reason, never dropped.
ARCHIVE_FILE_MAX_PAGES = 300       # pages per PDF/OFD (a 法治政府建设年度报告 runs 5–30)
ARCHIVE_FILE_MAX_OCR_PAGES = 30    # pages OCRed per scanned file (seconds a page)
ARCHIVE_FILE_SECONDS = 120.0       # wall clock per file in its extraction process, OCR included
ARCHIVE_FILE_MEMORY_MB = 2048      # address space of that process (PDFium, tesseract)
ARCHIVE_FILE_MAX_UNZIPPED_MB = 200  # DOCX/OFD: total unpacked size (zip bombs)
ARCHIVE_HEALTH_FAIL_ON = ["blocked", "failing", "shape_changed"]  # source states that make the
                                   # crawl exit 3 (add "overdue" to be told of missing reports)
ARCHIVE_LEDGER_AS_OF = os.environ.get("ARCHIVE_LEDGER_AS_OF")  # the ledger's date (YYYY-MM-DD);
# None = the day the crawl ends. Tests pin it so their ledger cells do not move with the calendar.
ARCHIVE_CONTACT_URL = os.environ.get("ARCHIVE_CONTACT_URL",
                                     "https://example.org/fzzf-archive (set ARCHIVE_CONTACT_URL)")

# -- politeness -------------------------------------------------------------------------------
USER_AGENT = f"fzzf-archive/0.1 (+{ARCHIVE_CONTACT_URL}; rule-of-law report archive)"
ROBOTSTXT_OBEY = True              # default False
CONCURRENT_REQUESTS = 32           # default 16: many small portals at once
CONCURRENT_REQUESTS_PER_DOMAIN = 2  # default 8: county portals are small servers
AUTOTHROTTLE_ENABLED = True        # default False
AUTOTHROTTLE_START_DELAY = 1.0     # default 5.0
AUTOTHROTTLE_MAX_DELAY = 30.0      # default 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0  # default 1.0
DEPTH_LIMIT = 40                   # default 0 (unlimited); safety net above CRAWL_MAX_LISTING_PAGES
COOKIES_ENABLED = False            # default True: nothing here needs a session

# -- failures ---------------------------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30              # default 180
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024  # default 1 GiB
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024  # default 32 MiB
RETRY_TIMES = 3                    # default 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 2.0           # seconds before the first retry, doubling (not in Scrapy)
RETRY_BACKOFF_MAX = 60.0           # longest wait; a longer Retry-After means give up
REDIRECT_MAX_TIMES = 5             # default 20: portals redirect once or twice

# -- components -------------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SourceHostsMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.ConditionalRequestMiddleware": 560,
}
ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}

CONCURRENT_ITEMS = 16              # default 100: one item per page here; each slot costs a task
LOGSTATS_INTERVAL = 15.0           # default 60.0: progress every 15 s
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")  # default DEBUG
TELNETCONSOLE_ENABLED = False      # default True
FEED_EXPORT_ENCODING = "utf-8"
