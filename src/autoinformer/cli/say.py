"""``autoinformer say``: preview a speech template as text, SSML or audio.

Examples::

    autoinformer say "Hello {NAME}, you owe <currency>{B|abs} RUB</currency>" \\
        --var NAME=Ilya --var B=-525.19 --lang ru
    autoinformer say "Call <digits>88001234567</digits>" --ssml
    autoinformer say "Hello {name}<stop:1s>bye" --name Ann --out preview.wav

Exit codes: 0 ok; 1 synthesis failed; 2 template error (printed with a caret under the
position), missing variable, a value the template cannot read (``N/A`` as an amount, a credit
under ``|debt``: the message names the column and the value) or bad option.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from autoinformer.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from autoinformer.contacts.model import Contact
from autoinformer.errors import AutoinformerError, InputError, TemplateError

__all__ = ["default_cache_dir", "register"]


def default_cache_dir() -> Path:
    """``$AUTOINFORMER_CACHE`` or ``$XDG_CACHE_HOME/autoinformer/speech`` (~/.cache/...)."""
    explicit = os.environ.get("AUTOINFORMER_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autoinformer" / "speech"


def register(subparsers: Any) -> None:
    """Add the ``say`` sub-command."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "say",
        help="preview a speech template as text, SSML or audio",
        description="Render a speech template for one made-up contact.",
    )
    p.add_argument("template", metavar="TEMPLATE", help='e.g. "Hello {NAME}<stop:1s>..."')
    p.add_argument("--lang", default="en", help="language code (en, ru, id, ...); default en")
    p.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a contact variable (repeatable)",
    )
    p.add_argument("--name", default="", help="the contact's name ({name})")
    p.add_argument("--phone", default="", help="the contact's number ({phone})")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--text", action="store_true", help="print the normalised text (default)")
    what.add_argument("--ssml", action="store_true", help="print SSML")
    what.add_argument("--out", type=Path, metavar="FILE.wav", help="write the audio")
    p.add_argument("--engine", default="espeak", help="espeak (default, offline), gtts, tone")
    p.add_argument("--voice", default=None, help="engine voice (espeak-ng: en-us, ru, id+f3...)")
    p.add_argument(
        "--mode",
        choices=("fragment", "sentence"),
        default="sentence",
        help="sentence: natural (default for previews); fragment: as a large campaign sounds",
    )
    p.add_argument("--rate", type=int, choices=(8000, 16000), default=8000, help="sample rate")
    p.add_argument("--ulaw", action="store_true", help="G.711 mu-law instead of 16-bit PCM")
    p.add_argument("--cache", type=Path, default=None, help="fragment cache directory")
    p.set_defaults(handler=run)


def _contact(args: argparse.Namespace) -> Contact:
    variables: dict[str, str] = {}
    for item in args.var:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--var expects KEY=VALUE, got {item!r}")
        variables[key.strip()] = value
    phones = (args.phone,) if args.phone else ()
    return Contact(id="preview", name=args.name, phones=phones, variables=variables)


def run(args: argparse.Namespace) -> int:
    """Handle ``autoinformer say``."""
    from autoinformer.speech import Template

    try:
        template = Template.parse(args.template)
    except TemplateError as exc:
        print(f"autoinformer: template error: {exc.message}", file=sys.stderr)
        print(exc.pointer(), file=sys.stderr)
        return EXIT_USAGE
    for warning in template.warnings:
        print(f"autoinformer: warning: {warning}", file=sys.stderr)
    contact = _contact(args)
    missing = template.missing(contact)
    if missing:
        given = " ".join(f"--var {name}=..." for name in missing)
        print(
            f"autoinformer: error: missing variable(s) {', '.join(missing)}; give {given}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.ssml:
        print(template.render_ssml(contact, args.lang))
        return EXIT_OK
    if args.out is None:
        print(template.render_text(contact, args.lang))
        return EXIT_OK
    return _write_audio(args, template, contact)


def _write_audio(args: argparse.Namespace, template: Any, contact: Contact) -> int:
    import anyio

    from autoinformer.speech import AudioFormat, EngineRenderer, FragmentCache
    from autoinformer.speech.audio import write_wav
    from autoinformer.speech.engines import engine_by_name

    settings = {"voice": args.voice} if args.voice else {}
    engine = engine_by_name(args.engine, **settings)
    fmt = AudioFormat(args.rate, "ulaw" if args.ulaw else "pcm16")
    cache = FragmentCache(directory=args.cache or default_cache_dir())
    renderer = EngineRenderer(engine=engine, cache=cache, format=fmt, mode=args.mode)
    out: Path = args.out
    if out.suffix.lower() != ".wav":
        raise InputError(f"--out: expected a .wav file name (the audio is WAV), got {str(out)!r}")
    if not out.parent.is_dir():
        raise InputError(f"--out: directory {str(out.parent)!r} does not exist")
    try:
        payload = anyio.run(renderer.audio, template.plan(contact, args.lang))
        write_wav(out, payload, fmt)
    except InputError:
        raise
    except AutoinformerError as exc:
        print(f"autoinformer: error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(
        f"{out} ({fmt.seconds(payload):.1f} s, {fmt.sample_rate} Hz {fmt.encoding}, {engine.name})"
    )
    return EXIT_OK
