# The optional CUDA backend (src/backend/cuda), included from the top-level CMakeLists.txt.
# TOOLSFT_CUDA: AUTO builds it when nvcc and the CUDA toolkit (cuBLAS) are found, ON requires
# them, OFF never looks. The CPU build never depends on it. Sets TSFT_CUDA_ENABLED and, when on,
# the library target toolsft_cuda (which defines TSFT_HAVE_CUDA for everything linking it).
set(TOOLSFT_CUDA AUTO CACHE STRING "Build the CUDA backend: AUTO, ON or OFF")
set_property(CACHE TOOLSFT_CUDA PROPERTY STRINGS AUTO ON OFF)
string(TOUPPER "${TOOLSFT_CUDA}" _tsft_cuda_mode)
if(NOT _tsft_cuda_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "TOOLSFT_CUDA must be AUTO, ON or OFF, not '${TOOLSFT_CUDA}'")
endif()

set(TSFT_CUDA_ENABLED OFF)
if(NOT _tsft_cuda_mode STREQUAL "OFF")
  # sm_80 (A100) and sm_90 (H100/H200) only: every extra architecture is another device-code
  # compile of each .cu file. Override with -DCMAKE_CUDA_ARCHITECTURES=...
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80 90)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    find_package(CUDAToolkit QUIET)
  endif()
  if(CMAKE_CUDA_COMPILER AND CUDAToolkit_FOUND AND TARGET CUDA::cublas)
    set(TSFT_CUDA_ENABLED ON)
  elseif(_tsft_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR "TOOLSFT_CUDA=ON but the CUDA compiler or cuBLAS was not found "
                        "(nvcc: '${CMAKE_CUDA_COMPILER}', CUDAToolkit_FOUND: '${CUDAToolkit_FOUND}')")
  endif()
endif()

if(NOT TSFT_CUDA_ENABLED)
  message(STATUS "CUDA backend: off (TOOLSFT_CUDA=${TOOLSFT_CUDA})")
  return()
endif()

enable_language(CUDA)
# C++20, as the rest (CUDA_STANDARD follows CXX_STANDARD when unset). CMake 3.25 does not know
# nvcc 13's dialect flags and would refuse CUDA20; nvcc 12+ takes -std=c++20.
if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
endif()
message(STATUS "CUDA backend: on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
               "architectures ${CMAKE_CUDA_ARCHITECTURES})")

file(GLOB TSFT_CUDA_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/backend/cuda/*.cu)
add_library(toolsft_cuda STATIC ${TSFT_CUDA_SOURCES})
# The directory's options (-Wall, -march=native, ...) are host-compiler flags nvcc does not take;
# replace them for this target and hand the warnings to the host compiler.
set_property(TARGET toolsft_cuda PROPERTY COMPILE_OPTIONS "")
target_compile_options(toolsft_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Wno-unused-parameter>)
target_include_directories(toolsft_cuda PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(toolsft_cuda PUBLIC CUDA::cudart CUDA::cublas)
target_compile_definitions(toolsft_cuda PUBLIC TSFT_HAVE_CUDA)
