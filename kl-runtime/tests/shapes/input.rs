//! `Input` on every supported type: rank and static dims, actual dims, and row-major values.

use std::borrow::Cow;

use kl_runtime::{dims_of, shape_of, CShape, Input, DYN, MAX_RANK};

/// `dims` padded with zeros, as `Input::DIMS` and `Input::dims()` return them.
fn padded(dims: &[usize]) -> [usize; MAX_RANK] {
    let mut out = [0; MAX_RANK];
    out[..dims.len()].copy_from_slice(dims);
    out
}

/// Checks everything `Input` tells about `x`.
fn check<I: Input + ?Sized>(x: &I, static_dims: &[usize], dims: &[usize], flat: &[I::Elem]) {
    assert_eq!(I::RANK, static_dims.len(), "RANK");
    assert_eq!(I::DIMS, padded(static_dims), "DIMS");
    assert_eq!(x.dims(), padded(dims), "dims()");
    assert_eq!(dims_of(x), dims, "dims_of");
    assert_eq!(shape_of::<I>(), CShape::new(static_dims), "shape_of");
    assert_eq!(&*x.flat(), flat, "flat()");
}

fn is_borrowed<T: Clone>(c: Cow<'_, [T]>) -> bool {
    matches!(c, Cow::Borrowed(_))
}

#[test]
fn scalars_have_rank_zero() {
    check(&2.5_f64, &[], &[], &[2.5]);
    check(&-1.0_f32, &[], &[], &[-1.0]);
    assert!(is_borrowed(2.5_f64.flat()));
}

#[test]
fn fixed_size_arrays_are_fully_static() {
    check(&[1.0_f64, 2.0, 3.0], &[3], &[3], &[1.0, 2.0, 3.0]);
    check(&[[1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]], &[2, 3], &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    check(&[[1.0_f32, 2.0], [3.0, 4.0]], &[2, 2], &[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let cube: [[[f64; 4]; 3]; 2] =
        std::array::from_fn(|i| std::array::from_fn(|j| std::array::from_fn(|k| (i * 12 + j * 4 + k) as f64)));
    let expected: Vec<f64> = (0..24).map(|v| v as f64).collect();
    check(&cube, &[2, 3, 4], &[2, 3, 4], &expected);
    assert!(is_borrowed(cube.flat()));
    assert!(is_borrowed([[1.0_f64; 2]; 2].flat()));
}

#[test]
fn slices_leave_the_outer_dim_to_run_time() {
    let v = [1.0_f64, 2.0, 3.0, 4.0];
    check(&v[..], &[DYN], &[4], &[1.0, 2.0, 3.0, 4.0]);
    let rows = [[1.0_f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
    check(&rows[..], &[DYN, 3], &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let mats = [[[1.0_f64, 2.0], [3.0, 4.0], [5.0, 6.0]]];
    check(&mats[..], &[DYN, 3, 2], &[1, 3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let empty: &[[f64; 3]] = &[];
    check(empty, &[DYN, 3], &[0, 3], &[]);
    assert!(is_borrowed(rows[..].flat()));
}

#[test]
fn vecs_are_their_slices() {
    check(&vec![1.0_f64, 2.0], &[DYN], &[2], &[1.0, 2.0]);
    let rows: Vec<[f32; 3]> = (0..5).map(|i| [i as f32, i as f32 + 0.5, -(i as f32)]).collect();
    let expected: Vec<f32> = rows.iter().flatten().copied().collect();
    check(&rows, &[DYN, 3], &[5, 3], &expected);
    assert_eq!(dims_of(&rows), [5, 3]);
    let mats: Vec<[[f64; 2]; 2]> = vec![[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]];
    check(&mats, &[DYN, 2, 2], &[2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    // Borrowed, and from the Vec's own memory.
    let flat = rows.flat();
    assert!(std::ptr::eq(flat.as_ptr(), rows.as_ptr().cast()));
    assert!(is_borrowed(flat));
}

#[test]
fn references_and_boxes_are_what_they_point_to() {
    let rows = vec![[1.0_f64, 2.0], [3.0, 4.0], [5.0, 6.0]];
    check(&&rows, &[DYN, 2], &[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let mut m = [[1.0_f64, 2.0], [3.0, 4.0]];
    check(&&mut m, &[2, 2], &[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    check(&Box::new(7.0_f32), &[], &[], &[7.0]);
    let boxed: Box<[f64]> = vec![1.0, 2.0, 3.0].into_boxed_slice();
    check(&boxed, &[DYN], &[3], &[1.0, 2.0, 3.0]);
    check(&&&[0.5_f64; 4][..], &[DYN], &[4], &[0.5; 4]);
    assert!(is_borrowed(<&Vec<[f64; 2]> as Input>::flat(&&rows)));
}

#[cfg(feature = "ndarray")]
mod ndarray_arrays {
    use super::*;
    use ndarray::{arr0, arr2, Array3, Axis};

    #[test]
    fn standard_layout_is_borrowed_with_all_dims_dynamic() {
        let a = arr2(&[[1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        check(&a, &[DYN, DYN], &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert!(is_borrowed(a.flat()));
        check(&a.view(), &[DYN, DYN], &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        check(&arr0(2.5_f32), &[], &[], &[2.5]);
        let cube = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as f64);
        let expected: Vec<f64> = (0..24).map(|v| v as f64).collect();
        check(&cube, &[DYN, DYN, DYN], &[2, 3, 4], &expected);
    }

    #[test]
    fn non_contiguous_views_are_copied_in_logical_order() {
        let a = arr2(&[[1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let t = a.t();
        check(&t, &[DYN, DYN], &[3, 2], &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert!(!is_borrowed(t.flat()));
        let column = a.column(1);
        check(&column, &[DYN], &[2], &[2.0, 5.0]);
        let cube = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as f64);
        let mut axes = cube.view();
        axes.swap_axes(0, 2);
        axes.invert_axis(Axis(1));
        let expected: Vec<f64> = (0..4)
            .flat_map(|k| (0..3).rev().flat_map(move |j| (0..2).map(move |i| (i * 12 + j * 4 + k) as f64)))
            .collect();
        check(&axes, &[DYN, DYN, DYN], &[4, 3, 2], &expected);
    }

    #[test]
    fn six_dims_are_supported() {
        let a = ndarray::Array6::<f32>::zeros((1, 2, 1, 2, 1, 2));
        check(&a, &[DYN; 6], &[1, 2, 1, 2, 1, 2], &[0.0; 8]);
    }
}
