"""One malformed file for every rule that rejects an 835, naming segment and reason.

Each case edits one valid file (``BASE``, which loads cleanly) and expects a problem
at a given segment number and id whose reason says what is wrong. Other problems
may follow from the same edit (a removed segment also breaks SE01): the test looks
for the expected one among them.
"""

from __future__ import annotations

import pytest

from reconcile.ingest import MAX_PROBLEMS, FileRejected, Problem
from tests.x12_support import read

SEGMENTS = [
    "ISA*00*          *00*          *ZZ*DEMOPAYER      *ZZ*DEMOPRACTICE   "
    "*240301*1200*^*00501*000000001*0*P*:",
    "GS*HP*DEMOPAYER*DEMOPRACTICE*20240301*1200*1*X*005010X221A1",
    "ST*835*0001*005010X221A1",
    "BPR*I*66.00*C*ACH*CCP*01*999999992*DA*123456*1512345678**01*999988880"
    "*DA*98765*20240301",
    "TRN*1*EFT1*1512345678",
    "DTM*405*20240301",
    "N1*PR*DEMO HEALTH PLAN",
    "N4*CAPITAL CITY*GA*00000",
    "REF*2U*DEMO01",
    "N1*PE*DEMO FAMILY PRACTICE*XX*1234567893",
    "REF*TJ*123456789",
    "LX*1",
    "CLP*PCN1*1*150.00*75.00*20.00*12*ICN1",
    "CAS*OA*23*5.00",
    "NM1*QC*1*DOE*JO****MI*MBR1",
    "MOA***MA01",
    "REF*1W*MBR1",
    "REF*F8*ORIG1",
    "DTM*232*20240201",
    "DTM*233*20240201",
    "AMT*I*1.00",
    "SVC*HC:99213:25*150.00*80.00**1",
    "DTM*472*20240201",
    "CAS*CO*45*50.00",
    "CAS*PR*2*20.00",
    "REF*6R*L1",
    "AMT*B6*100.00",
    "LQ*HE*N130",
    "PLB*1234567893*20241231*WO:REF1*10.00*L6*-1.00",
    "SE*28*0001",
    "GE*1*1",
    "IEA*1*000000001",
]
BASE = "".join(segment + "~\n" for segment in SEGMENTS)

# (id, text replaced, replacement, segment number, segment id, words in the reason)
CASES = [
    # ------------------------------------------------------------- envelopes
    (
        "isa06-too-long",
        "*ZZ*DEMOPAYER      *",
        "*ZZ*DEMOPAYER-OF-MANY-CLAIMS*",
        1,
        "ISA",
        "ISA06 is longer than 15",
    ),
    ("isa13-not-9-digits", "*000000001*0*P", "*00000001X*0*P", 1, "ISA", "ISA13"),
    (
        "second-isa-without-iea",
        "GS*HP",
        "ISA*00~GS*HP",
        1,
        "ISA",
        "has no IEA before ISA",
    ),
    ("short-isa", "GS*HP", "ISA*00~GS*HP", 2, "ISA", "16 elements"),
    (
        "gs-without-ge",
        "ST*835",
        "GS*HP*A*B*20240301*1200*2*X*005010X221A1~ST*835",
        2,
        "GS",
        "has no GE before GS",
    ),
    ("gs06-not-a-number", "1200*1*X", "1200*A1*X", 2, "GS", "GS06"),
    ("gs01-not-hp", "GS*HP", "GS*HC", 2, "GS", "GS01 'HC' is not HP"),
    (
        "gs08-other-version",
        "*X*005010X221A1~\nST",
        "*X*004010X091A1~\nST",
        2,
        "GS",
        "version 004010X091A1 (GS08) is not supported",
    ),
    ("st-inside-st", "LX*1~", "ST*835*0002~LX*1~", 3, "ST", "has no SE before ST"),
    ("st01-not-835", "ST*835*0001", "ST*837*0001", 3, "ST", "ST01 '837' is not 835"),
    ("st02-too-short", "ST*835*0001", "ST*835*001", 3, "ST", "ST02"),
    (
        "st03-other-version",
        "0001*005010X221A1",
        "0001*005010X222A1",
        3,
        "ST",
        "version 005010X222A1 (ST03) is not supported",
    ),
    (
        "se01-wrong",
        "SE*28*0001",
        "SE*27*0001",
        30,
        "SE",
        "SE01 says 27 segments but the transaction set has 28",
    ),
    (
        "se01-not-a-count",
        "SE*28*0001",
        "SE*XX*0001",
        30,
        "SE",
        "SE01 'XX' is not a segment count",
    ),
    (
        "se02-mismatch",
        "SE*28*0001",
        "SE*28*0002",
        30,
        "SE",
        "SE02 control number '0002' does not match ST02 '0001'",
    ),
    (
        "se-without-st",
        "GE*1*1",
        "SE*1*0009~GE*1*1",
        31,
        "SE",
        "SE without an open transaction set",
    ),
    ("ge-before-se", "SE*28*0001~\n", "", 3, "ST", "has no SE before GE"),
    (
        "ge01-wrong",
        "GE*1*1",
        "GE*3*1",
        31,
        "GE",
        "GE01 says 3 transaction sets but the group has 1",
    ),
    (
        "ge01-not-a-count",
        "GE*1*1",
        "GE*X*1",
        31,
        "GE",
        "GE01 'X' is not a transaction set count",
    ),
    (
        "ge02-mismatch",
        "GE*1*1",
        "GE*1*7",
        31,
        "GE",
        "GE02 control number '7' does not match GS06 '1'",
    ),
    (
        "ge-without-gs",
        "IEA*1",
        "GE*1*1~IEA*1",
        32,
        "GE",
        "GE without an open functional group",
    ),
    ("iea-before-ge", "GE*1*1~\n", "", 2, "GS", "has no GE before IEA"),
    (
        "iea01-wrong",
        "IEA*1*",
        "IEA*2*",
        32,
        "IEA",
        "IEA01 says 2 functional groups but the interchange has 1",
    ),
    (
        "iea01-not-a-count",
        "IEA*1*",
        "IEA*A*",
        32,
        "IEA",
        "IEA01 'A' is not a functional group count",
    ),
    (
        "iea02-mismatch",
        "IEA*1*000000001",
        "IEA*1*000000002",
        32,
        "IEA",
        "IEA02 control number '000000002' does not match ISA13 '000000001'",
    ),
    (
        "file-ends-inside-st",
        "SE*28*0001~\nGE*1*1~\nIEA*1*000000001~\n",
        "",
        3,
        "ST",
        "has no SE at the end of the file",
    ),
    (
        "st-outside-gs",
        "IEA*1",
        "ST*835*0002~SE*2*0002~IEA*1",
        32,
        "ST",
        "ST outside a functional group",
    ),
    (
        "segment-outside-st",
        "GE*1*1",
        "BPR*I*1.00*C*CHK~GE*1*1",
        31,
        "BPR",
        "BPR outside a transaction set",
    ),
    ("not-a-segment", "LX*1~", "12345*6~LX*1~", 12, None, "this is not a segment"),
    # --------------------------------------------------------------- header
    (
        "no-bpr",
        "BPR*I*66.00*C*ACH*CCP*01*999999992*DA*123456*1512345678**01*999988880*DA*98765*20240301~\n",
        "",
        11,
        "LX",
        "no BPR segment",
    ),
    ("no-trn", "TRN*1*EFT1*1512345678~\n", "", 11, "LX", "no TRN segment"),
    ("second-bpr", "TRN*1", "BPR*I*1.00*C*CHK~TRN*1", 5, "BPR", "a second BPR"),
    ("second-trn", "DTM*405", "TRN*1*X*1512345678~DTM*405", 6, "TRN", "a second TRN"),
    ("bpr01-invalid", "BPR*I*", "BPR*Z*", 4, "BPR", "BPR01 'Z' is not a handling code"),
    (
        "bpr02-missing",
        "BPR*I*66.00*",
        "BPR*I**",
        4,
        "BPR",
        "BPR02 (the payment amount) is missing",
    ),
    (
        "bpr02-negative",
        "BPR*I*66.00*",
        "BPR*I*-66.00*",
        4,
        "BPR",
        "BPR02 (the payment amount) is negative",
    ),
    (
        "bpr02-three-decimals",
        "BPR*I*66.00*",
        "BPR*I*66.001*",
        4,
        "BPR",
        "more than 2 decimals",
    ),
    ("bpr03-invalid", "*66.00*C*", "*66.00*X*", 4, "BPR", "BPR03 'X' is not C or D"),
    (
        "bpr04-invalid",
        "*C*ACH*",
        "*C*WIRE*",
        4,
        "BPR",
        "BPR04 'WIRE' is not a payment method",
    ),
    (
        "bpr05-invalid",
        "*ACH*CCP*",
        "*ACH*PPD*",
        4,
        "BPR",
        "BPR05 'PPD' is not CCP or CTX",
    ),
    (
        "bpr09-too-long",
        "*DA*123456*",
        "*DA*" + "9" * 36 + "*",
        4,
        "BPR",
        "BPR09 is longer than the 35 characters",
    ),
    (
        "no-payment-date",
        "*98765*20240301~\nTRN*1*EFT1*1512345678~\nDTM*405*20240301~",
        "*98765~\nTRN*1*EFT1*1512345678~",
        4,
        "BPR",
        "no payment date: BPR16 is missing and there is no DTM*405",
    ),
    (
        "bad-bpr16-no-dtm405",
        "*98765*20240301~\nTRN*1*EFT1*1512345678~\nDTM*405*20240301~",
        "*98765*20241301~\nTRN*1*EFT1*1512345678~",
        4,
        "BPR",
        "BPR16 is '20241301', not a date, and there is no DTM*405",
    ),
    ("trn01-invalid", "TRN*1*", "TRN*2*", 5, "TRN", "TRN01 '2' is not 1"),
    (
        "trn02-missing",
        "TRN*1*EFT1*",
        "TRN*1**",
        5,
        "TRN",
        "TRN02 (the check or EFT trace number) is missing",
    ),
    (
        "trn03-missing",
        "TRN*1*EFT1*1512345678",
        "TRN*1*EFT1",
        5,
        "TRN",
        "TRN03 (the payer's identifier) is missing",
    ),
    (
        "trn03-too-long",
        "TRN*1*EFT1*1512345678",
        "TRN*1*EFT1*15123456789",
        5,
        "TRN",
        "TRN03 is longer than the 10 characters",
    ),
    (
        "dtm405-not-a-date",
        "DTM*405*20240301",
        "DTM*405*20240231",
        6,
        "DTM",
        "DTM02 '20240231' is not a date",
    ),
    (
        "header-dtm-missing-date",
        "DTM*405*20240301",
        "DTM*405",
        6,
        "DTM",
        "DTM01 and DTM02 are required",
    ),
    (
        "n102-missing",
        "N1*PR*DEMO HEALTH PLAN",
        "N1*PR*",
        7,
        "N1",
        "N102 (the name) is missing",
    ),
    (
        "n104-too-long",
        "N1*PR*DEMO HEALTH PLAN",
        "N1*PR*DEMO*XV*" + "X" * 81,
        7,
        "N1",
        "N104 is longer than the 80 characters",
    ),
    (
        "n402-too-long",
        "CAPITAL CITY*GA*",
        "CAPITAL CITY*GAX*",
        8,
        "N4",
        "N402 is longer than the 2 characters",
    ),
    (
        "header-ref-missing-value",
        "REF*2U*DEMO01",
        "REF*2U",
        9,
        "REF",
        "REF01 and REF02 are required",
    ),
    (
        "ref-2u-too-long",
        "REF*2U*DEMO01",
        "REF*2U*" + "D" * 81,
        9,
        "REF",
        "REF02 is longer than the 80 characters",
    ),
    (
        "npi-not-10-digits",
        "*XX*1234567893",
        "*XX*123456789",
        10,
        "N1",
        "N104 is not a 10-digit NPI",
    ),
    (
        "payee-tin-too-long",
        "REF*TJ*123456789",
        "REF*TJ*" + "1" * 21,
        11,
        "REF",
        "REF02 is longer than the 20 characters",
    ),
    (
        "header-after-claims",
        "PLB*",
        "N1*PR*LATE~PLB*",
        29,
        "N1",
        "N1 must come before the claims",
    ),
    (
        "bpr-after-claims",
        "PLB*",
        "BPR*I*1.00*C*CHK~PLB*",
        29,
        "BPR",
        "BPR must come before the claims",
    ),
    # ------------------------------------------------------- LX, TS3, PLB
    (
        "dtm405-after-claims",
        "AMT*I*1.00~",
        "AMT*I*1.00~LX*2~DTM*405*20240301~",
        23,
        "DTM",
        "DTM*405 (production date) must come before the claims",
    ),
    ("lx01-not-a-number", "LX*1~", "LX*A1~", 12, "LX", "LX01 'A1' is not a number"),
    (
        "lx-after-plb",
        "SE*28",
        "LX*2~SE*28",
        30,
        "LX",
        "claims must come before the PLB segments",
    ),
    (
        "clp-after-plb",
        "SE*28",
        "CLP*PCN2*1*0*0~SE*28",
        30,
        "CLP",
        "claims must come before the PLB segments",
    ),
    (
        "ts3-outside-lx",
        "LX*1~",
        "TS3*1*11*20241231*1*10.00~LX*1~",
        12,
        "TS3",
        "TS3 outside an LX loop",
    ),
    (
        "ts3-after-claim",
        "CAS*OA*23*5.00~",
        "CAS*OA*23*5.00~TS3*1*11*20241231*1*10.00~",
        15,
        "TS3",
        "TS3 must come before the LX's claims",
    ),
    (
        "ts3-bad-amount",
        "LX*1~",
        "LX*1~TS3*1*11*20241231*1*10.001~",
        13,
        "TS3",
        "TS305: '10.001' has more than 2 decimals",
    ),
    (
        "ts3-bad-date",
        "LX*1~",
        "LX*1~TS3*1*11*20241331*1*10.00~",
        13,
        "TS3",
        "TS303 '20241331' is not a date",
    ),
    (
        "ts3-bad-count",
        "LX*1~",
        "LX*1~TS3*1*11*20241231*X*10.00~",
        13,
        "TS3",
        "TS304 'X' is not a number",
    ),
    (
        "plb01-missing",
        "PLB*1234567893*",
        "PLB**",
        29,
        "PLB",
        "PLB01 (the provider identifier) is missing",
    ),
    (
        "plb02-not-a-date",
        "*20241231*WO",
        "*20241331*WO",
        29,
        "PLB",
        "PLB02 '20241331' is not a date",
    ),
    (
        "plb-without-adjustment",
        "PLB*1234567893*20241231*WO:REF1*10.00*L6*-1.00",
        "PLB*1234567893*20241231",
        29,
        "PLB",
        "PLB03 and PLB04 (an adjustment) are required",
    ),
    (
        "plb-seven-pairs",
        "*L6*-1.00~",
        "*L6*-1.00" + "*CS*1.00*CS*-1.00" * 3 + "*WO*1.00*WO*-1.00~",
        29,
        "PLB",
        "at most six adjustments",
    ),
    (
        "plb-pair-incomplete",
        "*L6*-1.00~",
        "*L6~",
        29,
        "PLB",
        "PLB05 and PLB06 must be given together",
    ),
    (
        "plb-reason-invalid",
        "WO:REF1",
        "ZZ:REF1",
        29,
        "PLB",
        "PLB03-1 'ZZ' is not a PLB adjustment reason",
    ),
    (
        "plb-reference-too-long",
        "WO:REF1",
        "WO:" + "R" * 51,
        29,
        "PLB",
        "PLB03-2 is longer than the 50 characters",
    ),
    (
        "plb-amount-three-decimals",
        "*10.00*L6",
        "*10.005*L6",
        29,
        "PLB",
        "PLB04: '10.005' has more than 2 decimals",
    ),
    ("plb-amount-zero", "*10.00*L6", "*0.00*L6", 29, "PLB", "PLB04 is zero"),
    # --------------------------------------------------------------- claims
    (
        "clp01-missing",
        "CLP*PCN1*",
        "CLP**",
        13,
        "CLP",
        "CLP01 (the patient control number) is missing",
    ),
    (
        "clp01-too-long",
        "CLP*PCN1*",
        "CLP*" + "P" * 39 + "*",
        13,
        "CLP",
        "CLP01 is longer than the 38 characters",
    ),
    (
        "clp02-invalid",
        "CLP*PCN1*1*",
        "CLP*PCN1*5*",
        13,
        "CLP",
        "CLP02 '5' is not a 5010 claim status",
    ),
    ("clp03-missing", "*1*150.00*75.00", "*1**75.00", 13, "CLP", "CLP03 is missing"),
    (
        "clp04-three-decimals",
        "*150.00*75.00*",
        "*150.00*75.001*",
        13,
        "CLP",
        "CLP04: '75.001' has more than 2 decimals",
    ),
    (
        "clp05-not-an-amount",
        "*75.00*20.00*",
        "*75.00*2O.00*",
        13,
        "CLP",
        "CLP05 (a value of 5 characters) is not an amount",
    ),
    (
        "clp07-too-long",
        "*12*ICN1~",
        "*12*" + "I" * 51 + "~",
        13,
        "CLP",
        "CLP07 is longer than the 50 characters",
    ),
    (
        "clp12-not-a-number",
        "*12*ICN1~",
        "*12*ICN1*11*1**470*1.X~",
        13,
        "CLP",
        "CLP12 (a value of 3 characters) is not a number",
    ),
    (
        "cas-group-cr",
        "CAS*OA*23",
        "CAS*CR*23",
        14,
        "CAS",
        "CAS01 'CR' is not a 5010 adjustment group",
    ),
    (
        "cas-outside-claim",
        "LX*1~",
        "LX*1~CAS*CO*45*1.00~",
        13,
        "CAS",
        "CAS outside a claim",
    ),
    (
        "cas-too-short",
        "CAS*OA*23*5.00",
        "CAS*OA*23",
        14,
        "CAS",
        "CAS02 and CAS03 (reason and amount) are required",
    ),
    (
        "cas-first-triplet-empty",
        "CAS*OA*23*5.00",
        "CAS*OA***",
        14,
        "CAS",
        "CAS02 and CAS03 are required",
    ),
    (
        "cas-seven-triplets",
        "CAS*OA*23*5.00",
        "CAS*OA*23*5.00*" + "*23*0*" * 5 + "*23*0",
        14,
        "CAS",
        "at most six",
    ),
    (
        "cas-amount-missing",
        "CAS*OA*23*5.00",
        "CAS*OA*23*5.00**45",
        14,
        "CAS",
        "CAS06 is missing",
    ),
    (
        "cas-amount-three-decimals",
        "CAS*OA*23*5.00",
        "CAS*OA*23*5.001",
        14,
        "CAS",
        "CAS03: '5.001' has more than 2 decimals",
    ),
    (
        "cas-reason-invalid",
        "CAS*OA*23*5.00",
        "CAS*OA*23-X*5.00",
        14,
        "CAS",
        "CAS02 (a value of 4 characters) is not a reason code",
    ),
    (
        "cas-quantity-invalid",
        "CAS*OA*23*5.00",
        "CAS*OA*23*5.00*ONE",
        14,
        "CAS",
        "CAS04 'ONE' is not a quantity",
    ),
    (
        "nm1-outside-claim",
        "LX*1~",
        "LX*1~NM1*QC*1*DOE~",
        13,
        "NM1",
        "NM1 outside a claim",
    ),
    (
        "nm103-too-long",
        "NM1*QC*1*DOE",
        "NM1*QC*1*" + "D" * 121,
        15,
        "NM1",
        "NM103 is longer than 120",
    ),
    (
        "nm104-too-long",
        "*DOE*JO*",
        "*DOE*" + "J" * 36 + "*",
        15,
        "NM1",
        "NM104 is longer than 35",
    ),
    (
        "nm109-too-long",
        "*MI*MBR1",
        "*MI*" + "M" * 81,
        15,
        "NM1",
        "NM109 is longer than 80",
    ),
    (
        "moa-outside-claim",
        "LX*1~",
        "LX*1~MOA***MA01~",
        13,
        "MOA",
        "MOA outside a claim",
    ),
    (
        "mia-bad-amount",
        "MOA***MA01",
        "MIA*0***1.234",
        16,
        "MIA",
        "MIA04: '1.234' has more than 2 decimals",
    ),
    (
        "claim-ref-missing-value",
        "REF*1W*MBR1",
        "REF*1W",
        17,
        "REF",
        "REF01 and REF02 are required",
    ),
    (
        "ref-f8-too-long",
        "REF*F8*ORIG1",
        "REF*F8*" + "O" * 51,
        18,
        "REF",
        "REF02 is longer than the 50 characters",
    ),
    (
        "claim-dtm-not-a-date",
        "DTM*232*20240201",
        "DTM*232*20240230",
        19,
        "DTM",
        "DTM02 '20240230' is not a date",
    ),
    (
        "amt-outside-claim",
        "LX*1~",
        "LX*1~AMT*I*1.00~",
        13,
        "AMT",
        "AMT outside a claim",
    ),
    (
        "amt-missing-amount",
        "AMT*I*1.00",
        "AMT*I",
        21,
        "AMT",
        "AMT01 and AMT02 are required",
    ),
    (
        "amt-three-decimals",
        "AMT*I*1.00",
        "AMT*I*1.001",
        21,
        "AMT",
        "AMT02: '1.001' has more than 2 decimals",
    ),
    ("qty-outside-claim", "LX*1~", "LX*1~QTY*CA*1~", 13, "QTY", "QTY outside a claim"),
    (
        "qty-not-a-number",
        "AMT*I*1.00",
        "QTY*CA*ONE",
        21,
        "QTY",
        "QTY01 and a numeric QTY02 are required",
    ),
    # ------------------------------------------------------- service lines
    (
        "svc-outside-claim",
        "LX*1~",
        "LX*1~SVC*HC:1*1*1~",
        13,
        "SVC",
        "SVC outside a claim",
    ),
    (
        "svc01-qualifier-invalid",
        "SVC*HC:",
        "SVC*XY:",
        22,
        "SVC",
        "SVC01-1 'XY' is not a product/service qualifier",
    ),
    (
        "svc01-no-code",
        "SVC*HC:99213:25",
        "SVC*HC",
        22,
        "SVC",
        "SVC01 has no procedure code",
    ),
    (
        "svc01-code-too-long",
        "SVC*HC:99213",
        "SVC*HC:" + "9" * 49,
        22,
        "SVC",
        "SVC01-2 is longer than 48",
    ),
    (
        "svc01-modifier-too-long",
        "99213:25*",
        "99213:255*",
        22,
        "SVC",
        "modifier in SVC01 is longer than 2",
    ),
    ("svc02-missing", "*150.00*80.00**1", "**80.00**1", 22, "SVC", "SVC02 is missing"),
    (
        "svc03-three-decimals",
        "*150.00*80.00**1",
        "*150.00*80.001**1",
        22,
        "SVC",
        "SVC03: '80.001' has more than 2 decimals",
    ),
    (
        "svc04-too-long",
        "*80.00**1",
        "*80.00*123456789*1",
        22,
        "SVC",
        "SVC04 is longer than 8",
    ),
    (
        "svc05-not-a-quantity",
        "*80.00**1",
        "*80.00**ONE",
        22,
        "SVC",
        "SVC05 'ONE' is not a quantity",
    ),
    (
        "svc06-not-a-procedure",
        "*80.00**1",
        "*80.00**1*99212",
        22,
        "SVC",
        "SVC06 is not a product/service qualifier and code",
    ),
    (
        "ref-6r-too-long",
        "REF*6R*L1",
        "REF*6R*" + "L" * 51,
        26,
        "REF",
        "REF02 is longer than 50",
    ),
    (
        "lq-outside-line",
        "REF*1W*MBR1",
        "LQ*HE*N1",
        17,
        "LQ",
        "LQ outside a service line",
    ),
    ("lq-missing-code", "LQ*HE*N130", "LQ*HE", 28, "LQ", "LQ01 and LQ02 are required"),
    ("lq01-invalid", "LQ*HE*N130", "LQ*XX*N130", 28, "LQ", "LQ01 'XX' is not HE or RX"),
    # --------------------------------------------------------------- balance
    (
        "line-unbalanced",
        "*150.00*80.00**1",
        "*150.00*81.00**1",
        22,
        "SVC",
        "the service line does not balance: SVC02 − ΣCAS = 150.00 − 70.00 = 80.00, "
        "but SVC03 is 81.00",
    ),
    (
        "claim-unbalanced",
        "*150.00*75.00*",
        "*150.00*76.00*",
        13,
        "CLP",
        "the claim does not balance: CLP03 − ΣCAS(claim) − ΣCAS(lines) = "
        "150.00 − 5.00 − 70.00 = 75.00, but CLP04 is 76.00",
    ),
    (
        "payment-unbalanced",
        "BPR*I*66.00",
        "BPR*I*67.00",
        4,
        "BPR",
        "the payment does not balance: ΣCLP04 − ΣPLB = 75.00 − 9.00 = 66.00, "
        "but BPR02 is 67.00",
    ),
]


def _problems(text: str, *, allow_unbalanced: bool = False) -> list[Problem]:
    with pytest.raises(FileRejected) as rejected:
        read(text, allow_unbalanced=allow_unbalanced)
    return rejected.value.problems


class TestBaseFile:
    def test_base_file_is_valid(self) -> None:
        """The file every case edits loads without a problem or warning."""
        sink, result = read(BASE)
        assert result.warnings == []
        assert sink.counts == {
            "payments": 1, "claims": 1, "service_lines": 1, "adjustments": 3,
            "provider_adjustments": 2,
        }  # fmt: skip

    @pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
    def test_case_edits_the_base_file(self, case: tuple) -> None:  # type: ignore[type-arg]
        """Every case's text occurs in the base file (so the edit is real)."""
        assert case[1] in BASE


class TestRejects:
    @pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
    def test_rule(self, case: tuple) -> None:  # type: ignore[type-arg]
        """The edited file is rejected, naming the segment and the rule broken."""
        _, old, new, segment, segment_id, reason = case
        problems = _problems(BASE.replace(old, new, 1))
        assert any(
            p.segment == segment and p.segment_id == segment_id and reason in p.reason
            for p in problems
        ), "\n".join(map(str, problems))

    @pytest.mark.parametrize(
        ("data", "reason"),
        [
            ("", "the file is empty"),
            ("claim,amount\n", "does not start with an ISA segment"),
            (BASE.split("GS*HP")[0] + "IEA*0*000000001~", "no 835 transaction set"),
            (BASE + "GS*HP~", "only another interchange (ISA) may follow"),
            (BASE.replace("DOE", "D\x00E"), "NUL character"),
        ],
        ids=["empty", "not-x12", "no-transaction", "garbage-after-iea", "nul"],
    )
    def test_files_that_are_not_835(self, data: str, reason: str) -> None:
        """Files with no usable 835 at all are rejected with one clear reason."""
        problems = _problems(data)
        assert reason in problems[0].reason

    def test_every_problem_is_listed(self) -> None:
        """Several faults in one file are all reported, in file order."""
        text = BASE.replace("CLP*PCN1*1*", "CLP*PCN1*5*").replace(
            "CAS*OA*23", "CAS*CR*23"
        )
        problems = _problems(text)
        assert [(p.segment, p.segment_id) for p in problems[:2]] == [
            (13, "CLP"),
            (14, "CAS"),
        ]

    def test_problem_list_is_capped(self) -> None:
        """A file full of faults stops at MAX_PROBLEMS problems, and says so."""
        bad_lines = "CAS*CR*1*1.00~\n" * (MAX_PROBLEMS + 50)
        problems = _problems(BASE.replace("CAS*OA*23*5.00~\n", bad_lines))
        assert len(problems) == MAX_PROBLEMS + 1
        assert problems[-1].segment is None
        assert problems[-1].reason.startswith(f"stopped after {MAX_PROBLEMS} problems")

    def test_reasons_carry_no_patient_data(self) -> None:
        """Over-long names and ids are reported without echoing their value."""
        name = "SECRETNAME" * 13
        problems = _problems(BASE.replace("NM1*QC*1*DOE", f"NM1*QC*1*{name}"))
        assert all("SECRETNAME" not in p.reason for p in problems)

    def test_misplaced_names_are_not_echoed(self) -> None:
        """A name that lands in an amount, date or code element is not repeated."""
        text = (
            BASE.replace("*75.00*20.00*", "*75.00*SMITH JOHN*")
            .replace("DTM*232*20240201", "DTM*232*SMITH")
            .replace("CAS*OA*23*5.00", "CAS*OA*SMITHJ*5.00")
            .replace("WO:REF1", "SMITHJOHN")
        )
        problems = _problems(text)
        assert len(problems) >= 4
        assert all("SMITH" not in p.reason for p in problems), problems


class TestAllowUnbalanced:
    @pytest.mark.parametrize(
        "case",
        [c for c in CASES if c[0].endswith("unbalanced")],
        ids=lambda c: c[0],
    )
    def test_balancing_faults_are_let_through(self, case: tuple) -> None:  # type: ignore[type-arg]
        """With allow_unbalanced, a balancing fault is returned, not rejected."""
        _, old, new, segment, segment_id, reason = case
        sink, result = read(BASE.replace(old, new, 1), allow_unbalanced=True)
        assert (segment, segment_id) in [
            (p.segment, p.segment_id) for p in result.unbalanced
        ]
        end = sink.payments[0].end
        assert end is not None
        assert reason in [p["reason"] for p in end.balance_problems]

    def test_other_faults_still_reject(self) -> None:
        """allow_unbalanced does not let any other fault through."""
        text = BASE.replace("*150.00*75.00*", "*150.00*76.00*").replace(
            "CAS*OA*23", "CAS*CR*23"
        )
        problems = _problems(text, allow_unbalanced=True)
        assert [p.segment_id for p in problems] == ["CAS"]
