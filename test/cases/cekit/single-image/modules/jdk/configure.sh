echo configure
