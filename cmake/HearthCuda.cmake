# The CUDA backend (src/backends/cuda/, docs/cuda.md). HEARTH_CUDA:
#   AUTO (default) builds it when a CUDA toolkit is found, and quietly skips it otherwise;
#   ON   requires it and stops with what to install when the toolkit is missing;
#   OFF  never builds it (the CPU-only hearth, exactly as without a toolkit).
# When built, hearth_cuda is a static library linked into hearth_lib's users and
# HEARTH_HAVE_CUDA=1 is defined for hearth_lib's own sources (only devices.cpp reads it).
set(HEARTH_CUDA "AUTO" CACHE STRING "Build the CUDA backend: AUTO, ON or OFF")
set_property(CACHE HEARTH_CUDA PROPERTY STRINGS AUTO ON OFF)
string(TOUPPER "${HEARTH_CUDA}" _hearth_cuda_mode)
if(NOT _hearth_cuda_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "HEARTH_CUDA=${HEARTH_CUDA}: use AUTO, ON or OFF")
endif()

set(HEARTH_CUDA_ENABLED OFF)
# The fuzz build instruments every source with clang's sanitizers, which nvcc cannot take.
if(HEARTH_FUZZ AND _hearth_cuda_mode STREQUAL "AUTO")
  set(_hearth_cuda_mode OFF)
elseif(HEARTH_FUZZ AND _hearth_cuda_mode STREQUAL "ON")
  message(FATAL_ERROR "HEARTH_FUZZ and HEARTH_CUDA=ON cannot be combined: the sanitizer flags "
          "do not apply to nvcc. Configure the fuzz build with -DHEARTH_CUDA=OFF")
endif()
if(NOT _hearth_cuda_mode STREQUAL "OFF")
  # nvcc is usually not on PATH (Debian keeps the NVIDIA toolkit in /usr/local/cuda).
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc CACHE FILEPATH "CUDA compiler")
  endif()
  if(NOT CMAKE_CUDA_COMPILER)
    include(CheckLanguage)
    check_language(CUDA)
  endif()
  if(CMAKE_CUDA_COMPILER)
    if(NOT CMAKE_CUDA_ARCHITECTURES)
      # A100, RTX 30xx, RTX 40xx / L4 / L40, H100 / H200.
      set(CMAKE_CUDA_ARCHITECTURES "80;86;89;90" CACHE STRING "CUDA architectures" FORCE)
    endif()
    enable_language(CUDA)
    # CMake 3.25 predates nvcc 12's C++20 support; teach it the flag (the code needs C++20).
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
      list(APPEND CMAKE_CUDA_COMPILE_FEATURES cuda_std_20)
      set(CMAKE_CUDA20_COMPILE_FEATURES cuda_std_20)
    endif()
    find_package(CUDAToolkit)
  endif()
  if(CMAKE_CUDA_COMPILER AND CUDAToolkit_FOUND)
    set(HEARTH_CUDA_ENABLED ON)
  elseif(_hearth_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR "HEARTH_CUDA=ON but no CUDA toolkit was found: install the NVIDIA CUDA "
            "toolkit (nvcc, cudart, cuBLAS; e.g. in /usr/local/cuda) or pass "
            "-DCMAKE_CUDA_COMPILER=/path/to/nvcc, or configure with -DHEARTH_CUDA=OFF")
  else()
    message(STATUS "CUDA toolkit not found: building without the CUDA backend")
  endif()
endif()

# Adds hearth_cuda (when enabled) and wires it to hearth_lib. The two libraries use each other
# (the forward pass instantiates the CUDA backend; the backend uses core/ops types), which
# CMake supports for static libraries by repeating them on the link line.
function(hearth_add_cuda_backend)
  if(NOT HEARTH_CUDA_ENABLED)
    return()
  endif()
  file(GLOB HEARTH_CUDA_SOURCES CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/src/backends/cuda/*.cu
       ${PROJECT_SOURCE_DIR}/src/backends/cuda/*.cpp)
  add_library(hearth_cuda STATIC ${HEARTH_CUDA_SOURCES})
  target_include_directories(hearth_cuda PUBLIC ${PROJECT_SOURCE_DIR}/src)
  # Only the listed architectures, and the host side at -O2, keep the CI build of the
  # kernels short; the kernels are bandwidth-bound, so -O3 buys nothing measurable.
  target_compile_options(hearth_cuda PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wno-unknown-pragmas>)
  set_property(TARGET hearth_cuda PROPERTY COMPILE_OPTIONS_CUDA_RELEASE "")
  set(CMAKE_CUDA_FLAGS_RELEASE "-O2 -DNDEBUG" PARENT_SCOPE)
  # The shared cudart (not nvcc's default static one) next to CUDA::cudart, so one runtime is
  # linked; without a driver it loads and reports "no CUDA devices" instead of failing.
  set_target_properties(hearth_cuda PROPERTIES CUDA_RUNTIME_LIBRARY Shared CUDA_STANDARD 20 CUDA_STANDARD_REQUIRED ON
                        CUDA_EXTENSIONS OFF)
  target_link_libraries(hearth_cuda PUBLIC CUDA::cudart CUDA::cublas hearth_lib)
  target_link_libraries(hearth_lib PUBLIC hearth_cuda)
  target_compile_definitions(hearth_lib PRIVATE HEARTH_HAVE_CUDA=1)
  message(STATUS "CUDA backend: on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, archs "
          "${CMAKE_CUDA_ARCHITECTURES})")
endfunction()
