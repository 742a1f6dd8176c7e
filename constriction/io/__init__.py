"""Files in and out: the TOML spec reader (spec_reader.py, with the field checks in
toml_fields.py), result folders that never replace what is not ours (folders.py), the
summary (summary.py) and instrument files (measured.py)."""
