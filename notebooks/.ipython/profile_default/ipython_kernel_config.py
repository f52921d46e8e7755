# The kernel that runs the lessons (papermill for make all, nbval for make test; the Makefile points
# IPYTHONDIR here). Native libraries write their own log lines straight to file descriptor 2
# (TensorFlow's absl "E0000 ..." lines); captured, they would land in the executed reports. They go
# to the terminal that runs make instead; Python's own output and errors still reach the notebook.
c = get_config()  # noqa: F821
c.IPKernelApp.capture_fd_output = False
