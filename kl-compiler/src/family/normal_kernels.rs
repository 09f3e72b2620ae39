//! The elementwise kernels of `Normal` (`kl_runtime::scalar`), as descriptors. Attributes are
//! `NormalParam` indices: how each side's scale is given.

use crate::explain::{div, paren, sub, variance};
use crate::ir::NormalParam;
use crate::kernel::{scalar_kernel, Adjoint, Attrs, Call, CallArg, Formula, Kernel, Quantity, Rows};
use kl_runtime as rt;

fn param(a: u8) -> NormalParam {
    NormalParam::ALL[a as usize]
}

/// The runtime's name for attribute `a`.
fn rp(a: u8) -> rt::ScaleParam {
    param(a).runtime()
}

/// The attributes of a kernel whose sides' scales are given as `p1` and `p2`.
pub fn attrs(p1: NormalParam, p2: NormalParam) -> Attrs {
    let i = |p: NormalParam| NormalParam::ALL.iter().position(|q| *q == p).unwrap_or(0) as u8;
    [i(p1), i(p2)]
}

/// The `kl_runtime::ScaleParam` variant of `p`.
fn runtime_name(p: NormalParam) -> &'static str {
    p.runtime_name()
}

const SCALE: u8 = 0;

/// `[m1, s1, m2, s2]`: the univariate KL, each side's second parameter as the user gave it (so
/// that near-equal variances or log-scales stay exact).
pub const NORMAL_KL: Kernel = Kernel {
    name: "normal_kl",
    operands: &["m1", "s1", "m2", "s2"],
    quantity: Quantity::Kl,
    call: |a| match a {
        // Scales on both sides: the vectorizable kernel.
        [SCALE, SCALE] => Call::operands("normal_kl", 4),
        [p1, p2] => Call {
            runtime: "normal_kl_param",
            args: vec![
                CallArg::Operand(0),
                CallArg::Operand(1),
                CallArg::ScaleParam(runtime_name(param(p1))),
                CallArg::Operand(2),
                CallArg::Operand(3),
                CallArg::ScaleParam(runtime_name(param(p2))),
            ],
        },
    },
    f64: |x, a| rt::normal_kl_param(x[0], x[1], param(a[0]).runtime(), x[2], x[3], param(a[1]).runtime()),
    f32: |x, a| rt::normal_kl_param(x[0], x[1], param(a[0]).runtime(), x[2], x[3], param(a[1]).runtime()),
    hint: "kl",
    formula: normal_kl_formula,
    label: |slot, a| match slot {
        1 => Some(format!("{}1", param(a[0]).keyword())),
        3 => Some(format!("{}2", param(a[1]).keyword())),
        _ => None,
    },
    rows: |a| (a == [SCALE, SCALE]).then_some(&NORMAL_KL_ROWS),
    adjoint: Adjoint {
        call: |a| Call {
            runtime: "normal_kl_param_grad",
            args: vec![
                CallArg::Operand(0),
                CallArg::Operand(1),
                CallArg::ScaleParam(runtime_name(param(a[0]))),
                CallArg::Operand(2),
                CallArg::Operand(3),
                CallArg::ScaleParam(runtime_name(param(a[1]))),
            ],
        },
        f64: |x, a, g| g.copy_from_slice(&rt::normal_kl_param_grad(x[0], x[1], rp(a[0]), x[2], x[3], rp(a[1]))),
        f32: |x, a, g| g.copy_from_slice(&rt::normal_kl_param_grad(x[0], x[1], rp(a[0]), x[2], x[3], rp(a[1]))),
    },
    check: None,
};

static NORMAL_KL_ROWS: Rows = Rows {
    runtime: "normal_kl_rows",
    f64: |d, i, o, c| rt::normal_kl_rows(d, i[0], i[1], i[2], i[3], o, c),
    f32: |d, i, o, c| rt::normal_kl_rows(d, i[0], i[1], i[2], i[3], o, c),
    elementwise: false,
};

fn normal_kl_formula(f: &mut dyn Formula, a: Attrs) -> String {
    let (m1, a1, m2, a2) = (f.arg(0), f.arg(1), f.arg(2), f.arg(3));
    if a == [SCALE, SCALE] {
        let (s1, s2) = (a1, a2);
        let u = f.define("u", &|u| format!("{u} = {} − 1", div(&s1, &s2)));
        return format!("½({})² + ½{u}² − log1pmx({u})", div(&paren(&sub(&m1, &m2)), &s2));
    }
    let (p1, p2) = (param(a[0]), param(a[1]));
    let (v1, v2) = (variance(p1, &a1), variance(p2, &a2));
    let rho = f.define("ρ", &|r| format!("{r} = {} (from the parameters as given)", div(&v1, &v2)));
    let mean = match p2 {
        NormalParam::Scale => format!("½({})²", div(&paren(&sub(&m1, &m2)), &a2)),
        _ => format!("½{}²/{}", paren(&sub(&m1, &m2)), paren(&v2)),
    };
    format!("{mean} + ½({rho} − 1) − ½ln {rho}")
}

/// `[m, s]`: the KL against `N(0, 1)`, `s` as the user gave it.
pub const STD_NORMAL_KL: Kernel = Kernel {
    name: "std_normal_kl",
    operands: &["m", "s"],
    quantity: Quantity::Kl,
    call: |a| match a[0] {
        SCALE => Call::operands("std_normal_kl", 2),
        p => Call {
            runtime: "normal_kl_param",
            args: vec![
                CallArg::Operand(0),
                CallArg::Operand(1),
                CallArg::ScaleParam(runtime_name(param(p))),
                CallArg::Zero,
                CallArg::One,
                CallArg::ScaleParam("Scale"),
            ],
        },
    },
    f64: |x, a| match a[0] {
        SCALE => rt::std_normal_kl(x[0], x[1]),
        p => rt::normal_kl_param(x[0], x[1], param(p).runtime(), 0.0, 1.0, rt::ScaleParam::Scale),
    },
    f32: |x, a| match a[0] {
        SCALE => rt::std_normal_kl(x[0], x[1]),
        p => rt::normal_kl_param(x[0], x[1], param(p).runtime(), 0.0, 1.0, rt::ScaleParam::Scale),
    },
    hint: "kl",
    formula: |f, a| {
        let (m, s) = (f.arg(0), f.arg(1));
        if a[0] == SCALE {
            let u = f.define("u", &|u| format!("{u} = {s} − 1"));
            return format!("½{m}² + ½{u}² − log1pmx({u})");
        }
        let v = variance(param(a[0]), &s);
        format!("½{m}² + ½({v} − 1) − ½ln {}", paren(&v))
    },
    label: |slot, a| (slot == 1).then(|| param(a[0]).keyword().to_string()),
    rows: |a| (a[0] == SCALE).then_some(&STD_NORMAL_KL_ROWS),
    adjoint: Adjoint {
        call: |a| Call {
            runtime: "std_normal_kl_grad",
            args: vec![CallArg::Operand(0), CallArg::Operand(1), CallArg::ScaleParam(runtime_name(param(a[0])))],
        },
        f64: |x, a, g| g.copy_from_slice(&rt::std_normal_kl_grad(x[0], x[1], rp(a[0]))),
        f32: |x, a, g| g.copy_from_slice(&rt::std_normal_kl_grad(x[0], x[1], rp(a[0]))),
    },
    check: None,
};

static STD_NORMAL_KL_ROWS: Rows = Rows {
    runtime: "std_normal_kl_rows",
    f64: |d, i, o, c| rt::std_normal_kl_rows(d, i[0], i[1], o, c),
    f32: |d, i, o, c| rt::std_normal_kl_rows(d, i[0], i[1], o, c),
    elementwise: false,
};

/// `[x, m, s]`: the log density.
pub const NORMAL_LOG_PROB: Kernel = scalar_kernel! {
    name: "normal_log_prob", quantity: LogProb, hint: "log_p",
    runtime: normal_log_prob, adjoint: normal_log_prob_grad,
    operands: [x = 0, m = 1, s = 2],
    formula: |x, m, s| format!("−½({})² − ln {s} − ½ln(2π)", div(&paren(&sub(&x, &m)), &s)),
    rows: |_| Some(&NORMAL_LOG_PROB_ROWS),
};

static NORMAL_LOG_PROB_ROWS: Rows = Rows {
    runtime: "normal_log_prob_rows",
    f64: |d, i, o, c| rt::normal_log_prob_rows(d, i[0], i[1], i[2], o, c),
    f32: |d, i, o, c| rt::normal_log_prob_rows(d, i[0], i[1], i[2], o, c),
    elementwise: false,
};

/// `[s]`: the differential entropy.
pub const NORMAL_ENTROPY: Kernel = scalar_kernel! {
    name: "normal_entropy", quantity: Entropy, hint: "h",
    runtime: normal_entropy, adjoint: normal_entropy_grad,
    operands: [s = 0],
    formula: |s| format!("½ + ½ln(2π) + ln {s}"),
};
