"""``letters completion bash|zsh``: a shell completion script made from the parser itself,
so it offers exactly the commands, subcommands, options and choices ``--help`` shows.

    source <(letters completion bash)          # in ~/.bashrc
    source <(letters completion zsh)           # in ~/.zshrc (through zsh's bashcompinit)
"""

from __future__ import annotations

import argparse
from typing import Any

from letters.cli.console import OK

_HEAD = """# letters shell completion (made by `letters completion`; the same as `letters --help`)
_letters() {
    local cur="${COMP_WORDS[COMP_CWORD]}" words="" path="" i
    # the command path so far: the words that name commands and subcommands
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in -*) ;; *) path="$path ${COMP_WORDS[i]}" ;; esac
    done
    case "${path# }" in
"""
_TAIL = """    esac
    if [[ -n "$words" ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    fi
    if [[ ${#COMPREPLY[@]} -eq 0 && "$cur" != -* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -o filenames -F _letters letters
"""


def _words(parser: argparse.ArgumentParser) -> tuple[list[str], dict[str, Any]]:
    """What may follow a command: its options, its subcommands or the choices of its first
    positional argument; and the subcommands' parsers."""
    words: list[str] = []
    children: dict[str, Any] = {}
    first_positional = True
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            children.update(action.choices)
            words += list(action.choices)
        elif action.option_strings:
            words += [o for o in action.option_strings if o.startswith("--")] or list(
                action.option_strings
            )
        elif first_positional:
            first_positional = False
            if action.choices:
                words += [str(c) for c in action.choices]
    return words, children


def bash_script(parser: argparse.ArgumentParser) -> str:
    """The bash completion script for ``parser`` (``letters``)."""
    found: list[tuple[str, list[str]]] = []

    def walk(p: argparse.ArgumentParser, path: str) -> None:
        words, children = _words(p)
        found.append((path, words))
        for name, child in children.items():
            walk(child, f"{path} {name}".strip())

    walk(parser, "")
    cases = []  # the longest command path first: "templates approve 3" is templates approve
    for path, words in sorted(found, key=lambda item: -len(item[0].split())):
        pattern = f'"{path}"|"{path} "*' if path else '""'
        cases.append(f'        {pattern}) words="{" ".join(words)}" ;;')
    return _HEAD + "\n".join(cases) + "\n" + _TAIL


def zsh_script(parser: argparse.ArgumentParser) -> str:
    """The same script for zsh, through its bash completion emulation."""
    return (
        "# letters zsh completion (bash's, through bashcompinit)\n"
        "autoload -U +X compinit && compinit\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(parser)
    )


def cmd_completion(args: argparse.Namespace) -> int:
    from letters.cli import build_parser

    parser = build_parser()
    print(bash_script(parser) if args.shell == "bash" else zsh_script(parser), end="")
    return OK


def register(sub: Any) -> None:
    p = sub.add_parser("completion", help="print a shell completion script (bash or zsh)")
    p.add_argument(
        "shell",
        choices=["bash", "zsh"],
        help="the shell: `source <(letters completion bash)` in ~/.bashrc",
    )
    p.set_defaults(func=cmd_completion)
