# Kernels for one instruction set live in a folder named after it; only those files are
# compiled with that ISA's flags, and src/backends/cpu/dispatch.cpp picks them at run time
# from CPUID, so one binary runs on any x86-64 (and the portable kernels run everywhere).
function(hearth_isa_flags sources)
  foreach(src IN LISTS sources)
    if(src MATCHES "/backends/cpu/x86_avx2/")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
    elseif(src MATCHES "/backends/cpu/x86_avx512_bf16/")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS
        "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni;-mavx512bf16")
    elseif(src MATCHES "/backends/cpu/x86_avx512/")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS
        "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni")
    elseif(src MATCHES "/backends/cpu/x86_amx/")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS
        "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni;-mavx512bf16;-mamx-tile;-mamx-int8;-mamx-bf16")
    endif()
  endforeach()
endfunction()
