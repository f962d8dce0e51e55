; C[64x64] = A[64x128] . W[128x64] on plena-tvm (MLEN = VLEN = 64, BLEN = 2), MXFP8 HBM.
;
; HBM (byte = element addresses, published image layout: elements then scales per tensor):
;   A at 0      (64 x 128, SCALE = 8192)       W at 9216  (128 x 64, SCALE = 8192)
;   C at 18432  (64 x 64,  SCALE = 4096)
; VRAM (element addresses, column-block major): A block kt at kt*4096 (64 rows each),
;   C at 8192 (64 rows).   MRAM: W rows kt*64.. in tile kt (address kt*4096).

S_ADDI_INT gp1, gp0, 9216
C_SET_ADDR_REG a1, gp0, gp1        ; a1 = W
S_ADDI_INT gp1, gp0, 18432
C_SET_ADDR_REG a2, gp0, gp1        ; a2 = C
                                   ; a0 = A = 0 (reset value)

; ---- A -> VRAM: 2 column blocks x 4 groups of 16 rows --------------------------------
S_ADDI_INT gp1, gp0, 8192
C_SET_SCALE_REG gp1                ; SCALE = 64*128
S_ADDI_INT gp1, gp0, 128
C_SET_STRIDE_REG gp1               ; STRIDE = row width of A
S_ADDI_INT gp2, gp0, 0             ; VRAM destination
S_ADDI_INT gp3, gp0, 0             ; HBM offset of the column block
C_LOOP_START gp20, 2               ; column blocks kt
  S_ADDI_INT gp4, gp3, 0           ; HBM offset of the row group
  C_LOOP_START gp21, 4             ; row groups of 16
    H_PREFETCH_V gp2, gp4, a0, 1, 0
    S_ADDI_INT gp2, gp2, 1024      ; 16 VRAM rows
    S_ADDI_INT gp4, gp4, 2048      ; 16 HBM rows of 128
  C_LOOP_END gp21
  S_ADDI_INT gp3, gp3, 64
C_LOOP_END gp20

; ---- W -> MRAM tiles 0 and 1 -----------------------------------------------------------
S_ADDI_INT gp1, gp0, 8192
C_SET_SCALE_REG gp1                ; SCALE = 128*64
S_ADDI_INT gp1, gp0, 64
C_SET_STRIDE_REG gp1               ; STRIDE = row width of W
S_ADDI_INT gp2, gp0, 0
H_PREFETCH_M gp2, gp2, a1, 1, 0    ; tile 0 <- W rows 0..63
S_ADDI_INT gp2, gp0, 4096
H_PREFETCH_M gp2, gp2, a1, 1, 0    ; tile 1 <- W rows 64..127

; ---- C = A . W, one 2x2 block per M_MM_WO ----------------------------------------------
S_ADDI_INT gp10, gp0, 0            ; A row block in VRAM (block 0)
S_ADDI_INT gp11, gp0, 8192         ; C row block in VRAM
C_LOOP_START gp20, 32              ; 32 row blocks of BLEN rows
  S_ADDI_INT gp12, gp0, 0          ; output column c (element-granular MRAM offset)
  C_LOOP_START gp21, 32            ; 32 column blocks of BLEN columns
    M_MM 0, gp12, gp10             ; K tile 0
    S_ADDI_INT gp13, gp12, 4096
    S_ADDI_INT gp14, gp10, 4096
    M_MM 0, gp13, gp14             ; K tile 1, accumulated
    S_ADD_INT gp15, gp11, gp12
    M_MM_WO gp15, gp0, 0           ; C[rows, c..c+1] = bf16(acc)
    S_ADDI_INT gp12, gp12, 2
  C_LOOP_END gp21
  S_ADDI_INT gp10, gp10, 128
  S_ADDI_INT gp11, gp11, 128
C_LOOP_END gp20

; ---- C -> HBM ---------------------------------------------------------------------------
S_ADDI_INT gp1, gp0, 4096
C_SET_SCALE_REG gp1                ; SCALE = 64*64
S_ADDI_INT gp1, gp0, 64
C_SET_STRIDE_REG gp1
S_ADDI_INT gp2, gp0, 8192
S_ADDI_INT gp3, gp0, 0
C_LOOP_START gp20, 4
  H_STORE_V gp2, gp3, a2, 1, 0
  S_ADDI_INT gp2, gp2, 1024
  S_ADDI_INT gp3, gp3, 1024
C_LOOP_END gp20
