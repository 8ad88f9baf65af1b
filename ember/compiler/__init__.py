"""ember.compiler: graph capture, lowering and code generation (the compile issues)."""
