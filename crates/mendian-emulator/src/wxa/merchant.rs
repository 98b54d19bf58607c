//! The merchant (门店小程序 account) calls: categories, `apply_merchant` and its audit
//! (status 2 → 1 approved / 3 rejected, after `audit_delay`, with the outcome fixed when the
//! audit starts, pushed as `apply_merchant_audit_info`), `get_merchant_audit_info` and
//! `modify_merchant` (needs an approved merchant, 85053; `""` means "unchanged"). `nickname`
//! is 4–30 in width (a non-ASCII character counts 2) without special characters (85030) and
//! without 微信 (85033); a second application while one is under audit answers 85050.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::envelope::{err, ok, Answer};
use super::fixtures::categories;
use super::inputs::{int, text, width};
use super::push::{PendingPush, XmlValue};
use super::{Audit, Verdict, WxaState};

const MERCHANT_REJECT_REASON: &str = "资料不符合要求(mendian-emulator: audit_outcome reject)";

/// The merchant, once it applied.
#[derive(Debug, Clone)]
pub(super) struct Merchant {
    audit: Audit,
}

impl WxaState {
    /// `get_merchant_category`.
    pub(super) fn merchant_category(&self) -> Answer {
        Ok(ok(json!({ "data": categories() })))
    }

    /// `get_merchant_audit_info`.
    pub(super) fn merchant_audit_info(&self) -> Answer {
        Ok(match &self.merchant {
            None => ok(json!({ "data": { "audit_id": 0, "status": 0, "reason": "" } })),
            Some(m) => {
                let (status, reason) = match m.audit.verdict() {
                    Verdict::Pending => (2, ""),
                    Verdict::Approved => (1, ""),
                    Verdict::Rejected => (3, MERCHANT_REJECT_REASON),
                };
                ok(json!({ "data": { "audit_id": m.audit.id, "status": status, "reason": reason } }))
            }
        })
    }

    /// `modify_merchant`.
    pub(super) fn modify_merchant(&self, body: &BTreeMap<String, Value>) -> Answer {
        let head = text(body, "headimg_mediaid")?;
        text(body, "intro")?;
        if !self.merchant.as_ref().is_some_and(|m| m.audit.verdict() == Verdict::Approved) {
            return Err(err(85053, "请先成功创建门店后再调用"));
        }
        if !head.is_empty() {
            self.check_head_image(&head)?;
        }
        // The head image and intro change at once; "" keeps the current one.
        Ok(ok(json!({})))
    }

    /// `apply_merchant`.
    pub(super) fn apply_merchant(&mut self, body: &BTreeMap<String, Value>, pushes: &mut Vec<PendingPush>) -> Answer {
        int(body, "first_catid")?;
        int(body, "second_catid")?;
        let nickname = text(body, "nickname")?;
        text(body, "intro")?;
        let head = text(body, "headimg_mediaid")?;
        let w = width(&nickname);
        let plain = nickname.chars().all(|c| c.is_alphanumeric() || " _-·".contains(c));
        if !(4..=30).contains(&w) || !plain {
            return Err(err(85030, "名称长度为4-30个字符(一个中文占两个字符),不能含有特殊字符及“微信”等保留字"));
        }
        if nickname.contains("微信") {
            return Err(err(85033, "名称不能包含违反公众平台协议、相关法律法规和政策的内容,不得使用“微信”等保留字"));
        }
        if self.merchant.as_ref().is_some_and(|m| m.audit.verdict() == Verdict::Pending) {
            return Err(err(85050, "正在审核中,请勿重复提交"));
        }
        self.check_head_image(&head)?;
        for k in ["qualification_list", "org_code", "other_files"] {
            self.check_media_list(body, k)?;
        }
        let a = self.audit();
        let (status, reason) = if a.approve { (1, "") } else { (3, MERCHANT_REJECT_REASON) };
        pushes.push(PendingPush {
            at: a.ready,
            event: "apply_merchant_audit_info",
            audit_id: a.id,
            fields: vec![
                ("audit_id", XmlValue::Number(a.id)),
                ("status", XmlValue::Number(status)),
                ("reason", XmlValue::Text(reason.into())),
            ],
        });
        self.merchant = Some(Merchant { audit: a });
        Ok(ok(json!({})))
    }
}
