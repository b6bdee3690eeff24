"""bench/annotate.py: the JIT's listing read into offsets, matched to the perf map by size, samples attributed."""
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("annotate", REPO / "bench" / "annotate.py")
annotate = importlib.util.module_from_spec(_spec)
sys.modules["annotate"] = annotate   # dataclasses look the module up by name
_spec.loader.exec_module(annotate)

# The shape of DOTNET_JitDisasm's output with DOTNET_JitDisasmWithCodeBytes=1 (.NET 10): a quick build, then the
# optimised one (two groups; 1 + 3 + 3 bytes, then 2 + 1).
LISTING = """\
; Assembly listing for method Ns.Outer:Work(int):int:this (Tier0)
; Tier0 code

G_M000_IG01:                ;; offset=0x0000
       55                   push     rbp
       C3                   ret
 
; Total bytes of code 2

; Assembly listing for method Ns.Outer:Work(int):int:this (Tier1)
; Tier1 code
; optimized code

G_M000_IG01:                ;; offset=0x0000
       55                   push     rbp
       8B4708               mov      eax, dword ptr [rdi+0x08]
       3B4708               cmp      eax, dword ptr [rdi+0x08]
 
G_M000_IG02:                ;; offset=0x0007
       FFC0                 inc      eax
       C3                   ret
 
; Total bytes of code 10
"""

PERF_MAP = """\
7f0000001000 2 instance int32 [Asm] Ns.Outer::Work(int32)[QuickJitted]
7f0000002000 a instance int32 [Asm] Ns.Outer::Work(int32)[OptimizedTier1]
7f0000003000 a instance int32 [Asm] Ns.Other::Work(int32)[OptimizedTier1]
"""


def test_listings_are_read_with_each_instructions_offset_and_the_codes_size():
    quick, optimised = annotate.parse_listings(LISTING)
    assert (quick.name, quick.tier, quick.size) == ("Ns.Outer:Work", "Tier0", 2)
    assert (optimised.name, optimised.tier, optimised.size) == ("Ns.Outer:Work", "Tier1", 10)
    assert [o for o, _ in optimised.instructions] == [0, 1, 4, 7, 9]
    assert optimised.instructions[3][1] == "inc      eax"


def test_the_perf_map_entries_are_the_methods_of_that_class_only():
    entries = annotate.perf_map_entries(PERF_MAP, "Ns.Outer:Work")
    assert [(start, size) for start, size, _ in entries] == [(0x7F0000001000, 2), (0x7F0000002000, 10)]


def test_each_sample_counts_for_the_instruction_it_falls_in_and_only_inside_the_code():
    optimised = annotate.parse_listings(LISTING)[1]
    base = 0x7F0000002000
    per = annotate.attribute(optimised, base, [base + 0, base + 3, base + 4, base + 6, base + 9, base + 10, base - 1])
    assert per == {0: 1, 1: 1, 2: 2, 4: 1}


def test_the_optimised_listing_is_matched_to_its_code_by_size_in_the_process_that_wrote_the_map():
    base = 0x7F0000002000
    ips = {42: [base + 4, base + 5, base + 8, 0x7F0000003004], 7: [base + 4]}
    text = annotate.annotate(annotate.parse_listings(LISTING), {42: PERF_MAP}, ips, top=2, everything=False)
    lines = text.splitlines()
    assert lines[0] == "Ns.Outer:Work (Tier1, 10 bytes): 3 of 4 samples (75.0 %)"
    assert "cmp      eax, dword ptr [rdi+0x08]" in lines[1] and "66.7 %" in lines[1]
    assert lines[1].endswith("after: mov      eax, dword ptr [rdi+0x08]")
    assert len(lines) == 3
    whole = annotate.annotate(annotate.parse_listings(LISTING), {42: PERF_MAP}, ips, top=2, everything=True)
    assert len(whole.splitlines()) == 1 + 5


def test_no_match_says_why():
    text = annotate.annotate(annotate.parse_listings(LISTING), {1: "7f00 4 x Ns.Outer::Work(int32)[OptimizedTier1]\n"},
                             {}, top=5, everything=False)
    assert text.startswith("no optimised listing of that method matches a perf-map entry")


@pytest.mark.parametrize("argv, message", [
    (["Work"], "give the command to profile after --"),
    (["--top", "0", "Work", "--", "true"], "--top must be at least 1, got 0"),
    (["--frequency", "0", "Work", "--", "true"], "--frequency must be at least 1, got 0"),
])
def test_bad_arguments_are_usage_errors_naming_the_argument(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        annotate.main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


# An optimised listing with calls: direct ones (a generic name holds brackets), a runtime helper, one through a register.
CALLS = """\
; Assembly listing for method Ns.Outer:Free(int):this (Tier1)
; Tier1 code

G_M000_IG01:                ;; offset=0x0000
       E800000000           call     [Ns.Lists:Changed(int):this]
       E800000000           call     [Ns.Lists:Changed(int):this]
       E800000000           call     [System.SpanHelpers:Fill[ubyte](byref,ulong,ubyte)]
       E800000000           call     CORINFO_HELP_RNGCHKFAIL
       41FF13               call     [r11]Ns.IBuddy:PutPage(int,int):this
       C3                   ret
 
; Total bytes of code 24
"""


def test_calls_are_counted_per_callee_for_the_optimised_listings_only():
    text = annotate.calls_report(annotate.parse_listings(LISTING + "\n" + CALLS))
    assert text.splitlines() == [
        "Ns.Outer:Work (Tier1, 10 bytes): 0 calls",
        "",
        "Ns.Outer:Free (Tier1, 24 bytes): 5 calls",
        "     2  Ns.Lists:Changed(int):this",
        "     1  System.SpanHelpers:Fill[ubyte](byref,ulong,ubyte)",
        "     1  CORINFO_HELP_RNGCHKFAIL",
        "     1  Ns.IBuddy:PutPage(int,int):this",
    ]
