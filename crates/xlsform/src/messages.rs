//! Vietnamese wording of the core loader's findings.
//!
//! The loader reports in English with a JSON path; for form authors each finding is
//! recognised by its wording and said again in Vietnamese. A finding not recognised here
//! (a check added to the loader later) keeps its English text after a Vietnamese lead-in.
use crate::locate::{Seg, parse_path};
use serde_json::Value;
use sipas_core::form_loader::FormIssue;

/// The Vietnamese message for a loader issue that has none of its own (`message_vi`), without
/// its place (see [`crate::SheetIssue`]).
pub fn translate(issue: &FormIssue, form: &Value) -> String {
    let code = item_code(&issue.path, form);
    let m = issue.message.as_str();
    let has = |s: &str| m.contains(s);
    let code_rule = "phải bắt đầu bằng chữ cái ASCII và chỉ gồm chữ cái ASCII, chữ số, '_' và '-'";
    if has("is already used by") && has("item code") {
        "mã câu hỏi bị trùng; mã câu hỏi phải là duy nhất trong cả biểu mẫu".to_owned()
    } else if has("is already used by") && has("group code") {
        "mã nhóm bị trùng; mã nhóm phải là duy nhất".to_owned()
    } else if has("is already used by") && has("option value") {
        "mã lựa chọn bị trùng trong danh sách; mỗi mã chỉ dùng một lần trong một danh sách"
            .to_owned()
    } else if has("option value") && has("is not valid") {
        "mã lựa chọn không hợp lệ: phải bắt đầu bằng chữ cái hoặc chữ số ASCII và chỉ gồm chữ cái ASCII, chữ số, '_' và '-'".to_owned()
    } else if has("form_id") && has("not a valid identifier") {
        format!("mã biểu mẫu (form_id) không hợp lệ: {code_rule}")
    } else if has("group code") && has("is not valid") {
        format!("mã nhóm không hợp lệ: {code_rule}")
    } else if has("item code") && has("is not valid") {
        format!("mã câu hỏi không hợp lệ: {code_rule}")
    } else if has("scale name") && has("is not valid") {
        format!("tên thang đo (list_name) không hợp lệ: {code_rule}")
    } else if has("(\"vi\") is empty") {
        "nội dung tiếng Việt đang trống; mỗi nhãn cần nội dung tiếng Việt".to_owned()
    } else if has("(\"en\") is empty") {
        "nội dung tiếng Anh đang trống; điền vào hoặc để trống cả ô".to_owned()
    } else if has("NFC") {
        "văn bản chưa ở dạng Unicode dựng sẵn (NFC); lưu lại với bảng mã Unicode dựng sẵn"
            .to_owned()
    } else if has("version is empty") {
        "thiếu phiên bản (version), ví dụ 2026.1".to_owned()
    } else if has("has no groups") {
        "biểu mẫu chưa có nhóm nào; thêm ít nhất một nhóm (dòng begin group … end group)".to_owned()
    } else if has("has no rating item") {
        "nhóm tiêu chí (group_kind criteria) chưa có câu hỏi kiểu rating; thêm câu rating hoặc đổi loại nhóm".to_owned()
    } else if has("has no items") {
        "nhóm chưa có câu hỏi nào; thêm ít nhất một câu hỏi giữa begin group và end group"
            .to_owned()
    } else if has("\"element\" is only allowed") {
        "element chỉ dùng cho nhóm có group_kind là criteria; để trống ô này".to_owned()
    } else if has("\"in_overall_index\" is only allowed") {
        "in_overall_index chỉ dùng cho nhóm có group_kind là criteria; để trống ô này".to_owned()
    } else if has("is greater than max") {
        "min lớn hơn max; sửa lại khoảng giá trị".to_owned()
    } else if has("is only allowed on integer items") {
        "cột này chỉ dùng cho câu hỏi kiểu integer; để trống ô này".to_owned()
    } else if has("max_length must be greater than 0") {
        "max_length phải lớn hơn 0".to_owned()
    } else if has("is only allowed on text items") {
        "max_length chỉ dùng cho câu hỏi kiểu text; để trống ô này".to_owned()
    } else if has("\"criterion\" is only allowed") {
        "criterion chỉ dùng cho câu hỏi kiểu rating trong nhóm tiêu chí (criteria); để trống ô này"
            .to_owned()
    } else if has("\"exclusive\" only applies") {
        "exclusive chỉ dùng cho danh sách của câu hỏi select_multiple".to_owned()
    } else if has("more than one \"other\" option") {
        "câu hỏi có nhiều hơn một lựa chọn other; chỉ một lựa chọn được yêu cầu ghi rõ".to_owned()
    } else if has("asks for free text but there is no item") {
        format!(
            "lựa chọn này yêu cầu ghi rõ (other) nhưng không có câu hỏi text \"{code}_other\"; thêm câu hỏi text \"{code}_other\" ngay sau câu \"{code}\""
        )
    } else if has("holds the free text") && has("must be of type text") {
        format!("câu hỏi \"{code}_other\" giữ nội dung ghi rõ nên phải có kiểu text")
    } else if has("must come after item") {
        format!("câu hỏi \"{code}_other\" phải đặt sau câu \"{code}\"")
    } else if has("which does not exist in this form") {
        "điều kiện nhắc đến một câu hỏi không có trong biểu mẫu".to_owned()
    } else if has("not in an earlier group") {
        "điều kiện của nhóm chỉ được dùng câu trả lời của các câu hỏi thuộc nhóm phía trước"
            .to_owned()
    } else if has("refers to the item itself") {
        "điều kiện nhắc đến chính câu hỏi này; chỉ được dùng câu trả lời của các câu hỏi phía trước"
            .to_owned()
    } else if has("comes later in the form") {
        "điều kiện nhắc đến một câu hỏi đứng sau; chỉ được dùng câu trả lời của các câu hỏi phía trước"
            .to_owned()
    } else if has("is not an option of item") {
        "giá trị trong điều kiện không phải là mã lựa chọn của câu hỏi được nhắc đến".to_owned()
    } else if has("is not a point of scale") {
        "giá trị trong điều kiện không phải là một mức của thang đo".to_owned()
    } else if has("must be an integer because") {
        "giá trị trong điều kiện phải là số nguyên".to_owned()
    } else if has("must be a string because") {
        "giá trị trong điều kiện phải là chuỗi (đặt trong dấu ngoặc kép)".to_owned()
    } else if has("list is empty") || has("has no conditions") {
        "danh sách điều kiện đang trống; ghi ít nhất một điều kiện".to_owned()
    } else if has("untagged enum Condition") {
        "điều kiện JSON phải có đúng một dạng: {\"item\", \"equals\"}, {\"item\", \"in\"}, {\"item\", \"answered\"}, {\"all\"}, {\"any\"} hoặc {\"not\"}".to_owned()
    } else if has("a scale needs at least 2") {
        "thang đo cần ít nhất 2 mức".to_owned()
    } else if has("must be strictly ascending") {
        "các mức của thang đo phải tăng dần theo thứ tự dòng".to_owned()
    } else if has("is also a scale point") {
        "giá trị \"không trả lời\" (no_answer) trùng với một mức của thang đo; dùng giá trị ngoài thang đo, ví dụ 9".to_owned()
    } else if has("satisfied_from") && has("is not one of the point values") {
        "satisfied_from phải là một mức của thang đo".to_owned()
    } else if has("malformed JSON") {
        format!("JSON sai cú pháp; sửa theo vị trí (dòng, cột) trong chi tiết: {m}")
    } else if has("unknown variant") {
        "giá trị không hợp lệ (xem danh sách giá trị cho phép trong schemas/README.md)".to_owned()
    } else if has("missing field `vi`") {
        "thiếu nội dung tiếng Việt (cột ::vi) trong khi đã có nội dung tiếng Anh".to_owned()
    } else if has("invalid type") || has("invalid value") {
        "giá trị sai kiểu (ví dụ chữ ở chỗ cần số)".to_owned()
    } else {
        format!("biểu mẫu chưa hợp lệ (chi tiết tiếng Anh: {m})")
    }
}

/// The Vietnamese message for a loader issue of a JSON definition, with its JSON path.
pub fn translate_issue(issue: &FormIssue, form_json: &str) -> String {
    let vi = issue.message_vi.clone().unwrap_or_else(|| {
        let form: Value = serde_json::from_str(form_json).unwrap_or(Value::Null);
        translate(issue, &form)
    });
    format!("{}: {vi}", issue.path)
}

/// The code of the item a path points into (`$.groups[g].items[i]…`), or "".
fn item_code(path: &str, form: &Value) -> String {
    let segs = parse_path(path);
    match segs.as_slice() {
        [Seg::Key(g), Seg::Index(gi), Seg::Key(i), Seg::Index(ii), ..]
            if g == "groups" && i == "items" =>
        {
            form["groups"][gi]["items"][ii]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        }
        _ => String::new(),
    }
}
