// The source of the hindcast_test_pch target, whose precompiled header (GoogleTest and
// rapidcheck, named in CMakeLists.txt) every test binary reuses. It defines nothing.
