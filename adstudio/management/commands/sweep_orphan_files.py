from dataclasses import asdict

from django.core.management.base import BaseCommand

from adstudio.orphan_files import orphan_files_sweep


class Command(BaseCommand):
    help = ("Remove stored files that no row references and that are older than "
            "ADSTUDIO_ORPHAN_FILE_GRACE_SECONDS (beat runs this every few hours).")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="only count what would be removed")
        parser.add_argument("--grace-seconds", type=int, default=None,
                            help="instead of ADSTUDIO_ORPHAN_FILE_GRACE_SECONDS")

    def handle(self, *, dry_run, grace_seconds, **options):
        report = orphan_files_sweep(grace_seconds=grace_seconds, dry_run=dry_run)
        counts = ", ".join(f"{key} {value}" for key, value in asdict(report).items())
        self.stdout.write(("Would remove (dry run): " if dry_run else "Swept: ") + counts)
