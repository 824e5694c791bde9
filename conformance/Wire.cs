// The serializer tool's neutral form, and Json.NET 6.0.8 (Newtonsoft.Json.dll) with
// ASP.NET Web API's default JsonMediaTypeFormatter settings (AspNetWebStack,
// src/System.Net.Http.Formatting/Formatting/BaseJsonMediaTypeFormatter.cs). Tool.cs only:
// the server keeps its own formatter, whose embedded Json.NET clashes with this one.
//
// V, the neutral form, names each property by its wire name: a string is base64 of its
// UTF-8, an int or bool is itself, a date is {"ticks":N,"kind":"Utc|Local|Unspecified"}
// (read back with "utc_ticks" too), an enum is its integer (read back as {"value":N,
// "name":S|null}), a decimal is its invariant text ("12.50", scale kept), a nested
// model is its own neutral object, a List<T> is an array of its members' forms; null
// is null. Base64 keeps the channel clear of any JSON library's reading of the very
// strings under test.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Runtime.Serialization;
using System.Text;
using System.Xml;
using System.Xml.Serialization;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using ShopCtrl.Models;

namespace ShopCtrl.Conformance
{
    public static class Neutral
    {
        static readonly Encoding Utf8 = new UTF8Encoding(false, true);

        public static Type ModelType(string name)
        {
            // "Extended.X": the class with members the Python model lacks (codegen.py).
            string full = name.StartsWith("Extended.") ? "ShopCtrl." + name : "ShopCtrl.Models." + name;
            Type t = typeof(MessageConversation).Assembly.GetType(full);
            if (t == null) throw new ArgumentException("unknown type " + name);
            return t;
        }

        public static object Build(Type type, JObject values)
        {
            object obj = Activator.CreateInstance(type);
            foreach (KeyValuePair<string, JToken> pair in values)
            {
                PropertyInfo p = type.GetProperty(pair.Key);
                if (p == null) throw new ArgumentException("unknown property " + pair.Key);
                p.SetValue(obj, Value(p.PropertyType, pair.Value), null);
            }
            return obj;
        }

        static object Value(Type t, JToken token)
        {
            if (token.Type == JTokenType.Null) return null;
            Type u = Nullable.GetUnderlyingType(t) ?? t;
            if (u == typeof(string)) return Utf8.GetString(Convert.FromBase64String((string)token));
            if (u == typeof(int)) return (int)token;
            if (u == typeof(bool)) return (bool)token;
            if (u == typeof(DateTime))
            {
                DateTimeKind kind = (DateTimeKind)Enum.Parse(typeof(DateTimeKind), (string)token["kind"]);
                return new DateTime((long)token["ticks"], kind);
            }
            if (u.IsEnum) return Enum.ToObject(u, (int)token);
            if (u == typeof(decimal)) return decimal.Parse((string)token, NumberStyles.Number, CultureInfo.InvariantCulture);
            if (u.IsGenericType && u.GetGenericTypeDefinition() == typeof(List<>))
            {
                IList list = (IList)Activator.CreateInstance(u);
                Type member = u.GetGenericArguments()[0];
                foreach (JToken item in (JArray)token) list.Add(Value(member, item));
                return list;
            }
            if (u.IsClass && IsModel(u)) return Build(u, (JObject)token);
            throw new ArgumentException("no neutral form for " + t);
        }

        static bool IsModel(Type t)
        {
            return t.Namespace == "ShopCtrl.Models" || t.Namespace == "ShopCtrl.Extended";
        }

        public static JObject Dump(object obj)
        {
            JObject o = new JObject();
            foreach (PropertyInfo p in obj.GetType().GetProperties())
                o[p.Name] = Token(p.GetValue(obj, null));
            return o;
        }

        static JToken Token(object v)
        {
            if (v == null) return JValue.CreateNull();
            if (v is string) return new JValue(Convert.ToBase64String(Utf8.GetBytes((string)v)));
            if (v is int) return new JValue((int)v);
            if (v is bool) return new JValue((bool)v);
            if (v is DateTime)
            {
                DateTime d = (DateTime)v;
                JObject o = new JObject();
                o["ticks"] = d.Ticks;
                o["kind"] = d.Kind.ToString();
                o["utc_ticks"] = d.Kind == DateTimeKind.Local ? (JToken)d.ToUniversalTime().Ticks : JValue.CreateNull();
                return o;
            }
            if (v is decimal) return new JValue(((decimal)v).ToString(CultureInfo.InvariantCulture));
            if (v is IList)
            {
                JArray a = new JArray();
                foreach (object item in (IList)v) a.Add(Token(item));
                return a;
            }
            if (v.GetType().IsClass && IsModel(v.GetType())) return Dump(v);
            if (v.GetType().IsEnum)
            {
                JObject o = new JObject();
                o["value"] = Convert.ToInt32(v);
                o["name"] = Enum.IsDefined(v.GetType(), v) ? (JToken)v.ToString() : JValue.CreateNull();
                return o;
            }
            throw new ArgumentException("no neutral form for " + v.GetType());
        }
    }

    public static class JsonWire
    {
        // JsonMediaTypeFormatter.CreateDefaultSerializerSettings (its contract resolver adds
        // nothing for classes without [DataContract]).
        public static JsonSerializer JsonSerializer()
        {
            return Newtonsoft.Json.JsonSerializer.Create(new JsonSerializerSettings
            {
                MissingMemberHandling = MissingMemberHandling.Ignore,
                TypeNameHandling = TypeNameHandling.None,
            });
        }

        public static readonly Encoding Utf8 = new UTF8Encoding(false, true);

        public static byte[] WriteJson(object value, bool indent = false)
        {
            MemoryStream ms = new MemoryStream();
            using (JsonTextWriter w = new JsonTextWriter(new StreamWriter(ms, Utf8)) { CloseOutput = false, Formatting = indent ? Newtonsoft.Json.Formatting.Indented : Newtonsoft.Json.Formatting.None })
            {
                JsonSerializer().Serialize(w, value);
                w.Flush();
            }
            return ms.ToArray();
        }

        public static object ReadJson(byte[] body, Type type)
        {
            using (JsonTextReader r = new JsonTextReader(new StreamReader(new MemoryStream(body), Utf8)) { CloseInput = false, MaxDepth = 256 })
            {
                object value = JsonSerializer().Deserialize(r, type);
                if (r.Read() && r.TokenType != JsonToken.Comment)
                    throw new JsonSerializationException("additional text after the value");
                return value;
            }
        }
    }
}
