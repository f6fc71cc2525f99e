"""The gridprox command run in-process, for the CLI tests."""
from gridprox import cli


def run(capsys, *args):
    """main(args) in-process -> (exit code, stdout, stderr)."""
    try:
        rc = cli.main([str(a) for a in args])
    except SystemExit as exc:
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err
